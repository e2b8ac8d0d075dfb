using System.Globalization;
using System.Runtime.CompilerServices;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Refunds;

/// <summary>Lifecycle of a stored posting.</summary>
public static class PostingStatus
{
    public const string Pending = "pending";
    public const string Posted = "posted";

    /// <summary>
    /// Held back by an AmountMismatch record (<see cref="PostingRecord.BlockedBy"/>): never posted until that record is
    /// resolved or replayed, when the refunds stage plans it again from Loop's figures.
    /// </summary>
    public const string Blocked = "blocked";
}

/// <summary>A financial document of a return as stored in the <c>postings</c> table.</summary>
public sealed record PostingRecord
{
    public required string ReturnId { get; init; }

    public required string Kind { get; init; }

    public required string Reference { get; init; }

    public required string Currency { get; init; }

    public required decimal Amount { get; init; }

    public required string Status { get; init; }

    /// <summary>Fulfil party (customer) of the original sale.</summary>
    public int? PartyId { get; init; }

    /// <summary>Fulfil return order (for credit notes taken from it).</summary>
    public int? ReturnOrderId { get; init; }

    /// <summary>Credit note only: Loop's tax on the returned lines (T), the check on the tax Fulfil computes.</summary>
    public decimal Tax { get; init; }

    /// <summary>Credit note only: the handling fee Loop kept (F), a fee line on the credit note.</summary>
    public decimal HandlingFee { get; init; }

    public string? DocumentId { get; init; }

    public string? DocumentNumber { get; init; }

    public string? LastError { get; init; }

    public int FailedAttempts { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? PostedAt { get; init; }

    /// <summary>Id of the exception record that blocks the posting (<see cref="PostingStatus.Blocked"/>).</summary>
    public string? BlockedBy { get; init; }

    /// <summary>Claimed by <see cref="ScheduledPostingJob"/>, and its return's <c>postings.posted</c> message not yet sent.</summary>
    public bool AnnounceDue { get; init; }
}

/// <summary>A pending posting claimed by one worker (<see cref="PostingStore.ClaimAsync"/>); only it marks the posting posted.</summary>
public sealed class PostingLease
{
    internal PostingLease(PostingRecord record, TableEntity held)
    {
        Record = record;
        Held = held;
    }

    /// <summary>The posting as stored when it was claimed.</summary>
    public PostingRecord Record { get; }

    internal TableEntity Held { get; }
}

/// <summary>A return's posted postings owed a <c>postings.posted</c> message, as read before it is sent (<see cref="PostingStore.OwedAnnouncementAsync"/>).</summary>
public sealed class OwedAnnouncement
{
    internal OwedAnnouncement(string returnId, IReadOnlyList<TableEntity> rows)
    {
        ReturnId = returnId;
        Rows = rows;
    }

    public string ReturnId { get; }

    /// <summary>False when nothing of the return is owed a message.</summary>
    public bool IsOwed => Rows.Count > 0;

    /// <summary>Kinds of the postings owed, in row order.</summary>
    public IEnumerable<string> Kinds => Rows.Select(r => r.RowKey);

    internal IReadOnlyList<TableEntity> Rows { get; }
}

/// <summary>
/// Table <c>postings</c>: partition = Loop return id, row = posting kind. One row per document per return
/// (insert-if-absent), so a return closed five times plans each document once. Posting one is leased like a ledger
/// step (<see cref="ClaimAsync"/>): one worker at a time, and only it records the posting posted.
/// </summary>
public sealed class PostingStore
{
    public const string Table = "postings";
    private const string AnnounceProperty = "Announce";
    private const string AnnounceDue = "due";
    private const string AnnounceSent = "sent";
    private readonly ITableStore _store;
    private int _ready;

    public PostingStore(ITableStore store) => _store = store;

    /// <summary>Stores the posting unless one of its kind exists for the return; returns the stored one either way.</summary>
    public async Task<(PostingRecord Record, bool Added)> AddAsync(PostingRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(record.ReturnId, record.Kind)
        {
            ["Reference"] = record.Reference,
            ["Currency"] = record.Currency,
            // As text: the exact decimal, whatever the store does with doubles.
            ["Amount"] = record.Amount.ToString(CultureInfo.InvariantCulture),
            ["Status"] = record.Status,
            ["CreatedAt"] = record.CreatedAt,
            ["FailedAttempts"] = 0,
            ["Tax"] = record.Tax.ToString(CultureInfo.InvariantCulture),
            ["HandlingFee"] = record.HandlingFee.ToString(CultureInfo.InvariantCulture),
        };
        if (record.PartyId is { } party)
        {
            entity["PartyId"] = party;
        }

        if (record.ReturnOrderId is { } order)
        {
            entity["ReturnOrderId"] = order;
        }

        if (await _store.InsertAsync(Table, entity, cancellationToken).ConfigureAwait(false) == InsertOutcome.Inserted)
        {
            return (record, true);
        }

        return (await GetAsync(record.ReturnId, record.Kind, cancellationToken).ConfigureAwait(false) ?? record, false);
    }

    public async Task<PostingRecord?> GetAsync(string returnId, string kind, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var e = await _store.GetAsync(Table, returnId, kind, cancellationToken).ConfigureAwait(false);
        return e is null ? null : ToRecord(e);
    }

    public async Task<IReadOnlyList<PostingRecord>> ForReturnAsync(string returnId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PostingRecord>();
        await foreach (var e in _store.QueryAsync(Table, TableFilter.PartitionKeyEquals(returnId), cancellationToken).ConfigureAwait(false))
        {
            list.Add(ToRecord(e));
        }

        return list;
    }

    /// <summary>Every pending posting, across returns.</summary>
    public async IAsyncEnumerable<PostingRecord> PendingAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _store.QueryAsync(Table, TableFilter.Equal("Status", PostingStatus.Pending), cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(e);
        }
    }

    /// <summary>
    /// Claims the pending posting for the caller (owner and expiry, ETag-checked; an expired claim is taken over).
    /// Null when the posting is no longer pending (posted or blocked meanwhile): nothing to do.
    /// </summary>
    /// <exception cref="StepLeaseHeldException">Another worker is posting it: back off.</exception>
    public Task<PostingLease?> ClaimAsync(string returnId, string kind, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken) =>
        ClaimAsync(returnId, kind, now, duration, announce: false, cancellationToken);

    /// <summary>
    /// As <see cref="ClaimAsync(string, string, DateTimeOffset, TimeSpan, CancellationToken)"/>; with
    /// <paramref name="announce"/> the claim also marks the posting's return as owed a <c>postings.posted</c> message
    /// (<see cref="AnnounceDueAsync"/>), in the same ETag-checked write, so a worker that dies after posting leaves the
    /// announcement due for the next run instead of losing it.
    /// </summary>
    public async Task<PostingLease?> ClaimAsync(string returnId, string kind, DateTimeOffset now, TimeSpan duration, bool announce, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var owner = RowLease.NewOwner();
        for (var attempt = 0; attempt < RowLease.MaxClaimAttempts; attempt++)
        {
            var e = await _store.GetAsync(Table, returnId, kind, cancellationToken).ConfigureAwait(false);
            if (e is null || (e.GetString("Status") ?? PostingStatus.Pending) != PostingStatus.Pending)
            {
                return null;
            }

            Action<TableEntity>? also = announce ? patch => patch[AnnounceProperty] = AnnounceDue : null;
            var held = await RowLease.TryClaimAsync(_store, Table, e, owner, now, duration, $"Posting {e.GetString("Reference")}", also, cancellationToken).ConfigureAwait(false);
            if (held is not null)
            {
                return new PostingLease(ToRecord(e), held);
            }
        }

        throw new TransientIntegrationException($"Posting {kind} of return {returnId} kept changing under concurrent workers.");
    }

    /// <summary>Records the posting posted and ends the claim; throws transient when the claim was lost (the other worker records it).</summary>
    public async Task MarkPostedAsync(PostingLease lease, string documentId, string? number, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var recorded = await RowLease.CompleteAsync(_store, Table, lease.Held, at, e =>
        {
            e["Status"] = PostingStatus.Posted;
            e["DocumentId"] = documentId;
            e["DocumentNumber"] = number ?? string.Empty;
            e["PostedAt"] = at;
            e["LastError"] = string.Empty;
        }, cancellationToken).ConfigureAwait(false);
        if (!recorded)
        {
            throw new TransientIntegrationException($"Posting {lease.Record.Reference}: the claim expired before it was recorded posted; another worker owns it now.");
        }
    }

    /// <summary>Ends a claim whose work failed, so the next attempt need not wait for its expiry (best effort).</summary>
    public Task ReleaseAsync(PostingLease lease, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return RowLease.ReleaseAsync(_store, Table, lease.Held, now);
    }

    /// <summary>
    /// Blocks a pending posting behind exception record <paramref name="exceptionId"/> (ETag-checked). False when it is
    /// not pending (already posted: nothing to hold back; already blocked: it stays blocked by its first record).
    /// </summary>
    /// <exception cref="StepLeaseHeldException">A worker is posting it right now: retry once it has finished.</exception>
    public async Task<bool> MarkBlockedAsync(string returnId, string kind, string exceptionId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < RowLease.MaxClaimAttempts; attempt++)
        {
            var e = await _store.GetAsync(Table, returnId, kind, cancellationToken).ConfigureAwait(false);
            if (e is null || (e.GetString("Status") ?? PostingStatus.Pending) != PostingStatus.Pending)
            {
                return false;
            }

            if (RowLease.LiveUntil(e, now) is { } until)
            {
                throw new StepLeaseHeldException($"Posting {e.GetString("Reference")}", until, until - now);
            }

            var patch = new TableEntity(returnId, kind)
            {
                ["Status"] = PostingStatus.Blocked,
                ["BlockedBy"] = exceptionId,
                ["LastError"] = reason.Length > 1000 ? reason[..1000] : reason,
                ETag = e.ETag,
            };
            if (await _store.UpdateAsync(Table, patch, UpsertMode.Merge, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
            {
                return true;
            }
        }

        throw new TransientIntegrationException($"Posting {kind} of return {returnId} kept changing under concurrent workers.");
    }

    /// <summary>
    /// Makes a blocked posting pending again with the figures planned now (ETag-checked); returns the stored posting
    /// (unchanged when it was not blocked).
    /// </summary>
    public async Task<PostingRecord?> UnblockAsync(string returnId, string kind, decimal amount, string currency, CancellationToken cancellationToken, decimal tax = 0m, decimal handlingFee = 0m)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < RowLease.MaxClaimAttempts; attempt++)
        {
            var e = await _store.GetAsync(Table, returnId, kind, cancellationToken).ConfigureAwait(false);
            if (e is null || e.GetString("Status") != PostingStatus.Blocked)
            {
                return e is null ? null : ToRecord(e);
            }

            var patch = new TableEntity(returnId, kind)
            {
                ["Status"] = PostingStatus.Pending,
                ["Amount"] = amount.ToString(CultureInfo.InvariantCulture),
                ["Currency"] = currency,
                ["Tax"] = tax.ToString(CultureInfo.InvariantCulture),
                ["HandlingFee"] = handlingFee.ToString(CultureInfo.InvariantCulture),
                ["BlockedBy"] = string.Empty,
                ["LastError"] = string.Empty,
                ETag = e.ETag,
            };
            if (await _store.UpdateAsync(Table, patch, UpsertMode.Merge, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
            {
                return await GetAsync(returnId, kind, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TransientIntegrationException($"Posting {kind} of return {returnId} kept changing under concurrent workers.");
    }

    /// <summary>Every blocked posting, across returns.</summary>
    public async IAsyncEnumerable<PostingRecord> BlockedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _store.QueryAsync(Table, TableFilter.Equal("Status", PostingStatus.Blocked), cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(e);
        }
    }

    /// <summary>
    /// Returns with a posting posted under an announcing claim whose <c>postings.posted</c> message was not sent yet
    /// (the worker died or the send failed after the posting was recorded).
    /// </summary>
    public async Task<IReadOnlyList<string>> AnnounceDueAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var returns = new SortedSet<string>(StringComparer.Ordinal);
        var filter = TableFilter.And(TableFilter.Equal("Status", PostingStatus.Posted), TableFilter.Equal(AnnounceProperty, AnnounceDue));
        await foreach (var e in _store.QueryAsync(Table, filter, cancellationToken).ConfigureAwait(false))
        {
            returns.Add(e.PartitionKey);
        }

        return [.. returns];
    }

    /// <summary>
    /// The return's posted postings still owed a <c>postings.posted</c> message, read (with their ETags) before it is
    /// sent, so <see cref="MarkAnnouncedAsync"/> marks sent only what that message covers.
    /// </summary>
    public async Task<OwedAnnouncement> OwedAnnouncementAsync(string returnId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<TableEntity>();
        var filter = TableFilter.And(TableFilter.PartitionKeyEquals(returnId), TableFilter.Equal("Status", PostingStatus.Posted), TableFilter.Equal(AnnounceProperty, AnnounceDue));
        await foreach (var e in _store.QueryAsync(Table, filter, cancellationToken).ConfigureAwait(false))
        {
            rows.Add(e);
        }

        return new OwedAnnouncement(returnId, rows);
    }

    /// <summary>
    /// Records the postings of <paramref name="owed"/> announced (their message was sent), each ETag-checked: a row
    /// written since it was read stays due, and a later run announces it again (a repeated <c>postings.posted</c> only
    /// reruns the return's idempotent stages; a lost one would hold back its settlement and write-back).
    /// </summary>
    public async Task MarkAnnouncedAsync(OwedAnnouncement owed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owed);
        foreach (var row in owed.Rows)
        {
            await _store.UpdateAsync(Table, new TableEntity(row.PartitionKey, row.RowKey) { [AnnounceProperty] = AnnounceSent, ETag = row.ETag }, UpsertMode.Merge, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task MarkFailedAsync(PostingRecord record, string error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var entity = new TableEntity(record.ReturnId, record.Kind)
        {
            ["LastError"] = error.Length > 1000 ? error[..1000] : error,
            ["FailedAttempts"] = record.FailedAttempts + 1,
            ETag = "*",
        };
        await _store.UpdateAsync(Table, entity, UpsertMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    private static PostingRecord ToRecord(TableEntity e) => new()
    {
        ReturnId = e.PartitionKey,
        Kind = e.RowKey,
        Reference = e.GetString("Reference") ?? string.Empty,
        Currency = e.GetString("Currency") ?? string.Empty,
        Amount = e.GetDecimal("Amount") ?? 0m,
        Status = e.GetString("Status") ?? PostingStatus.Pending,
        PartyId = e.GetInt32("PartyId"),
        ReturnOrderId = e.GetInt32("ReturnOrderId"),
        Tax = e.GetDecimal("Tax") ?? 0m,
        HandlingFee = e.GetDecimal("HandlingFee") ?? 0m,
        DocumentId = NullIfEmpty(e.GetString("DocumentId")),
        DocumentNumber = NullIfEmpty(e.GetString("DocumentNumber")),
        LastError = NullIfEmpty(e.GetString("LastError")),
        FailedAttempts = e.GetInt32("FailedAttempts") ?? 0,
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        PostedAt = e.GetDateTimeOffset("PostedAt"),
        BlockedBy = NullIfEmpty(e.GetString("BlockedBy")),
        AnnounceDue = e.GetString(AnnounceProperty) == AnnounceDue,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ready) == 1)
        {
            return;
        }

        await _store.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _ready, 1);
    }
}
