using System.Globalization;
using System.Runtime.CompilerServices;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Refunds;

/// <summary>Lifecycle of a stored posting.</summary>
public static class PostingStatus
{
    public const string Pending = "pending";
    public const string Posted = "posted";
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

    public string? DocumentId { get; init; }

    public string? DocumentNumber { get; init; }

    public string? LastError { get; init; }

    public int FailedAttempts { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? PostedAt { get; init; }
}

/// <summary>
/// Table <c>postings</c>: partition = Loop return id, row = posting kind. One row per document per return
/// (insert-if-absent), so a return closed five times plans each document once.
/// </summary>
public sealed class PostingStore
{
    public const string Table = "postings";
    private readonly ITableStore store;
    private int ready;

    public PostingStore(ITableStore store) => this.store = store;

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
        };
        if (record.PartyId is { } party)
        {
            entity["PartyId"] = party;
        }

        if (record.ReturnOrderId is { } order)
        {
            entity["ReturnOrderId"] = order;
        }

        if (await store.InsertAsync(Table, entity, cancellationToken).ConfigureAwait(false) == InsertOutcome.Inserted)
        {
            return (record, true);
        }

        return (await GetAsync(record.ReturnId, record.Kind, cancellationToken).ConfigureAwait(false) ?? record, false);
    }

    public async Task<PostingRecord?> GetAsync(string returnId, string kind, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        TableEntity? e = await store.GetAsync(Table, returnId, kind, cancellationToken).ConfigureAwait(false);
        return e is null ? null : ToRecord(e);
    }

    public async Task<IReadOnlyList<PostingRecord>> ForReturnAsync(string returnId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PostingRecord>();
        await foreach (TableEntity e in store.QueryAsync(Table, TableFilter.PartitionKeyEquals(returnId), cancellationToken).ConfigureAwait(false))
        {
            list.Add(ToRecord(e));
        }

        return list;
    }

    /// <summary>Every pending posting, across returns.</summary>
    public async IAsyncEnumerable<PostingRecord> PendingAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (TableEntity e in store.QueryAsync(Table, TableFilter.Equal("Status", PostingStatus.Pending), cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(e);
        }
    }

    public async Task MarkPostedAsync(PostingRecord record, string documentId, string? number, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var entity = new TableEntity(record.ReturnId, record.Kind)
        {
            ["Status"] = PostingStatus.Posted,
            ["DocumentId"] = documentId,
            ["DocumentNumber"] = number ?? string.Empty,
            ["PostedAt"] = at,
            ["LastError"] = string.Empty,
            ETag = "*",
        };
        await store.UpdateAsync(Table, entity, UpsertMode.Merge, cancellationToken).ConfigureAwait(false);
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
        await store.UpdateAsync(Table, entity, UpsertMode.Merge, cancellationToken).ConfigureAwait(false);
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
        DocumentId = NullIfEmpty(e.GetString("DocumentId")),
        DocumentNumber = NullIfEmpty(e.GetString("DocumentNumber")),
        LastError = NullIfEmpty(e.GetString("LastError")),
        FailedAttempts = e.GetInt32("FailedAttempts") ?? 0,
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        PostedAt = e.GetDateTimeOffset("PostedAt"),
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref ready) == 1)
        {
            return;
        }

        await store.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref ready, 1);
    }
}
