using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// What LoopFulfil has done for each Loop return: the newest snapshot applied, and one record per step
/// (return order, receipt, restock move, credit note, journal, exchange order, write-back).
/// Table <c>returns</c>: partition = Loop return id; row <c>record</c> for the snapshot, <c>step:{name}</c> per step.
/// </summary>
/// <remarks>
/// Every step has one owner at a time and is idempotent twice over. A worker claims the step row's lease (owner and
/// expiry, an ETag-checked write) before the remote call; another worker finding a live lease backs off as transient,
/// an expired one is taken over; only the holder records the step done. Before every create the remote side is
/// searched by a deterministic key (channel_identifier, LOOP-{id}-… references), so a crash between "created in
/// Fulfil" and "recorded here" finds the document on the next attempt instead of creating a second one. The snapshot
/// row is ordered by time and, on a tie, by Loop's lifecycle (ADR 0002, ADR 0006).
/// </remarks>
public sealed partial class ReturnLedger
{
    public const string Table = "returns";
    private const string RecordRow = "record";
    private const string StepPrefix = "step:";
    private const string EventPrefix = "event:";

    // Snapshot and event bodies: inline on the row when small, else in a blob the row points at (BodyStore); either
    // way a snapshot update stays a single ETag-checked write of the row.
    internal const string BodyPrefix = "Snapshot";

    private readonly ITableStore _store;
    private readonly BodyStore _bodies;
    private readonly TimeProvider _time;
    private readonly LoopFulfilMetrics _metrics;
    private readonly IOptionsMonitor<ReturnsOptions>? _options;
    private readonly ILogger _logger;
    private int _tableReady;

    public ReturnLedger(ITableStore store, IBlobStore blobs, TimeProvider time, LoopFulfilMetrics? metrics = null, IOptionsMonitor<ReturnsOptions>? options = null, ILogger<ReturnLedger>? logger = null)
    {
        _store = store;
        _bodies = new BodyStore(blobs);
        _time = time;
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>How long a claim on a step (or posting) stays another worker's before it can be taken over (<c>Returns:StepLeaseDuration</c>).</summary>
    public TimeSpan LeaseDuration => _options?.CurrentValue.StepLeaseDuration ?? ReturnsOptions.DefaultStepLeaseDuration;

    /// <summary>
    /// Records <paramref name="snapshot"/> as the newest known state of the return unless it is not newer than the one
    /// applied (Loop delivers out of order): older times are stale; on an equal or missing time the state later in
    /// Loop's lifecycle wins (<see cref="SnapshotOrder"/>); a byte-identical snapshot changes nothing. Same state at the
    /// same second with another body is re-applied (nothing tells them apart; every step is idempotent).
    /// </summary>
    public Task<SnapshotDecision> AdvanceSnapshotAsync(string returnId, DateTimeOffset eventTime, string state, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken) =>
        AdvanceSnapshotAsync(returnId, (DateTimeOffset?)eventTime, state, snapshot, cancellationToken);

    /// <inheritdoc cref="AdvanceSnapshotAsync(string, DateTimeOffset, string, ReadOnlyMemory{byte}, CancellationToken)"/>
    /// <param name="eventTime">The latest time the payload carries; null when it carries none (ordered by lifecycle alone).</param>
    public async Task<SnapshotDecision> AdvanceSnapshotAsync(string returnId, DateTimeOffset? eventTime, string state, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var sha = BodyStore.Sha256Hex(snapshot.Span);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await _store.GetAsync(Table, returnId, RecordRow, cancellationToken);
            if (existing is not null)
            {
                if (string.Equals(existing.GetString(BodyPrefix + "Sha256"), sha, StringComparison.Ordinal) && existing.GetInt32(BodyPrefix + "Length") == snapshot.Length)
                {
                    return SnapshotDecision.Unchanged;
                }

                if (SnapshotOrder.Compare(eventTime, state, existing.GetDateTimeOffset("EventTime"), existing.GetString("State")) < 0)
                {
                    return SnapshotDecision.Stale;
                }
            }

            var entity = new TableEntity(returnId, RecordRow)
            {
                ["State"] = state,
                ["UpdatedAt"] = _time.GetUtcNow(),
            };
            if (eventTime is { } t)
            {
                entity["EventTime"] = t;
            }

            await _bodies.WriteAsync(Table, entity, BodyPrefix, snapshot, cancellationToken);
            if (existing is null)
            {
                if (await _store.InsertAsync(Table, entity, cancellationToken) == InsertOutcome.Inserted)
                {
                    return SnapshotDecision.Applied;
                }

                await _bodies.DiscardAsync(_store, Table, entity, BodyPrefix, cancellationToken);
                continue;
            }

            entity.ETag = existing.ETag;
            // Replace, not merge: a snapshot without a time must not keep the previous one's EventTime.
            if (await _store.UpdateAsync(Table, entity, UpsertMode.Replace, cancellationToken) == UpdateOutcome.Updated)
            {
                await _bodies.ReleaseAsync(BodyStore.BlobOf(existing, BodyPrefix), entity, BodyPrefix, cancellationToken);
                return SnapshotDecision.Applied;
            }

            await _bodies.DiscardAsync(_store, Table, entity, BodyPrefix, cancellationToken);
        }

        throw new Errors.TransientIntegrationException($"The snapshot of return {returnId} kept changing under concurrent writers.");
    }

    /// <summary>The newest snapshot applied, or null when nothing was recorded for the return.</summary>
    public async Task<ReturnSnapshotRecord?> GetSnapshotAsync(string returnId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var entity = await _store.GetAsync(Table, returnId, RecordRow, cancellationToken);
        return entity is null
            ? null
            : new ReturnSnapshotRecord(returnId, entity.GetDateTimeOffset("EventTime") ?? DateTimeOffset.MinValue, entity.GetString("State") ?? "", await ReadBodyAsync(entity, cancellationToken));
    }

    /// <summary>
    /// Runs a step at most once per return: returns the recorded document when the step is done; otherwise claims the
    /// step's lease, looks the document up remotely (<paramref name="findExisting"/>) and only when absent creates it
    /// (<paramref name="create"/>), and records the step done — as the lease holder, or not at all.
    /// </summary>
    /// <exception cref="StepLeaseHeldException">Another worker holds a live lease on the step: retry later.</exception>
    public async Task<StepResult> EnsureStepAsync(
        string returnId,
        string step,
        Func<CancellationToken, Task<string?>> findExisting,
        Func<CancellationToken, Task<string>> create,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(findExisting);
        ArgumentNullException.ThrowIfNull(create);
        await EnsureTableAsync(cancellationToken);
        var row = StepPrefix + step;
        var owner = RowLease.NewOwner();
        TableEntity? held = null;
        for (var attempt = 0; held is null; attempt++)
        {
            if (attempt == RowLease.MaxClaimAttempts)
            {
                throw new Errors.TransientIntegrationException($"Step {step} of return {returnId} kept changing under concurrent workers.");
            }

            var existing = await _store.GetAsync(Table, returnId, row, cancellationToken);
            if (existing?.GetString("Status") == StepStatus.Done)
            {
                return new StepResult(existing.GetString("DocumentId") ?? "", Created: false);
            }

            var now = _time.GetUtcNow();
            if (existing is null)
            {
                var started = RowLease.WithLease(new TableEntity(returnId, row) { ["Status"] = StepStatus.Started, ["StartedAt"] = now, ["Attempts"] = 1 }, owner, now, LeaseDuration);
                held = await _store.InsertAsync(Table, started, cancellationToken) == InsertOutcome.Inserted ? started : null;
                continue;
            }

            held = await RowLease.TryClaimAsync(_store, Table, existing, owner, now, LeaseDuration, $"Step {step} of return {returnId}",
                p => p["Attempts"] = (existing.GetInt32("Attempts") ?? 1) + 1, cancellationToken);
            if (held is not null && existing.GetString(RowLease.OwnerProperty) is { Length: > 0 })
            {
                LogTakenOver(_logger, returnId, step, existing.GetDateTimeOffset(RowLease.UntilProperty));
            }
        }

        string documentId;
        var created = false;
        var creating = false;
        bool recorded;
        try
        {
            var found = await findExisting(cancellationToken);
            if (found is null)
            {
                creating = true;
                found = await create(cancellationToken);
                created = true;
            }

            documentId = found;

            recorded = await RowLease.CompleteAsync(_store, Table, held, _time.GetUtcNow(), p =>
            {
                p["Status"] = StepStatus.Done;
                p["DocumentId"] = documentId;
                p["CompletedAt"] = _time.GetUtcNow();
                p["FoundExisting"] = !created;
            }, cancellationToken);
        }
        catch (Exception ex) when (creating && MayStillBeRunning(ex))
        {
            // The create may still be running on the server and commit later (seen on Tryton, whose SQLite writes
            // queue for seconds: the client timed out, a retry looked up at once, found nothing and made a second
            // return sale). The lease is kept, so the next look-up comes after it expires.
            throw;
        }
        catch
        {
            // The call is known to have ended (an answer, or never sent): the retry need not wait for the expiry.
            await RowLease.ReleaseAsync(_store, Table, held, _time.GetUtcNow());
            throw;
        }

        if (!recorded)
        {
            // The lease expired mid-work and another worker took the step over: it finds the document by its
            // reference and records the step; this worker records nothing.
            throw new Errors.TransientIntegrationException($"Step {step} of return {returnId}: the lease expired before the step was recorded; another worker owns it now.");
        }

        if (created && LoopFulfilMetrics.DocumentTypeOfStep(step) is { } documentType)
        {
            // Counted here, the one place that knows a document was created rather than found.
            _metrics.DocumentPosted(documentType);
        }

        return new StepResult(documentId, created);
    }

    /// <summary>
    /// True when a failed create may have reached the server and still be running there: the client's attempt timed out
    /// or the connection was lost after sending (<see cref="Http.UpstreamUnavailableException.MayHaveBeenApplied"/>), or
    /// this worker was cancelled mid-call (a host shutting down, a parallel job cancelling its siblings). An HTTP answer
    /// (the server finished), a refused connection or an open circuit (never sent) prove it is not.
    /// </summary>
    private static bool MayStillBeRunning(Exception ex) => ex switch
    {
        Http.UpstreamUnavailableException u => u.MayHaveBeenApplied,
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>Marks a step done without a remote document (e.g. a write-back that needs no id).</summary>
    public Task<StepResult> EnsureStepAsync(string returnId, string step, Func<CancellationToken, Task<string>> run, CancellationToken cancellationToken) =>
        EnsureStepAsync(returnId, step, _ => Task.FromResult<string?>(null), run, cancellationToken);

    /// <summary>
    /// Forgets a step so that a later pass performs it again: only for steps whose remote effect is meant to be
    /// repeated (Loop's Process Return after it failed in the background and the failure was replayed). True when a
    /// row was removed.
    /// </summary>
    public async Task<bool> ReopenStepAsync(string returnId, string step, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await _store.DeleteAsync(Table, returnId, StepPrefix + step, cancellationToken);
    }

    /// <summary>Every step of a return (for <c>loopfulfil returns show</c> and reconciliation).</summary>
    public async Task<IReadOnlyList<StepRecord>> GetStepsAsync(string returnId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        // TableFilter escapes the key the way the store does (a raw id with '~' or '%' would miss otherwise).
        var filter = TableFilter.And(TableFilter.PartitionKeyEquals(returnId), TableFilter.RowKeyStartsWith(StepPrefix));
        var steps = new List<StepRecord>();
        await foreach (var e in _store.QueryAsync(Table, filter, cancellationToken))
        {
            if (!e.RowKey.StartsWith(StepPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            steps.Add(ToStep(e));
        }

        return steps;
    }

    /// <summary>One step's record, or null when the step never started.</summary>
    public async Task<StepRecord?> GetStepAsync(string returnId, string step, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var e = await _store.GetAsync(Table, returnId, StepPrefix + step, cancellationToken);
        return e is null ? null : ToStep(e);
    }

    /// <summary>
    /// Keeps a non-snapshot event (label, restock, gift card, processing failure) for the stages that act on it later.
    /// Insert-if-absent by (trigger, dedupe key): returns false when this event was already recorded.
    /// </summary>
    public async Task<bool> RecordEventAsync(string returnId, string trigger, string dedupeKey, DateTimeOffset? eventTime, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var entity = new TableEntity(returnId, $"{EventPrefix}{trigger}:{dedupeKey}")
        {
            ["Trigger"] = trigger,
            ["DedupeKey"] = dedupeKey,
            ["ReceivedAt"] = _time.GetUtcNow(),
        };
        if (eventTime is { } t)
        {
            entity["EventTime"] = t;
        }

        await _bodies.WriteAsync(Table, entity, BodyPrefix, body, cancellationToken);
        if (await _store.InsertAsync(Table, entity, cancellationToken) == InsertOutcome.Inserted)
        {
            return true;
        }

        await _bodies.DiscardAsync(_store, Table, entity, BodyPrefix, cancellationToken);
        return false;
    }

    /// <summary>The non-snapshot events recorded for a return (optionally of one trigger), oldest first.</summary>
    public async Task<IReadOnlyList<RecordedReturnEvent>> GetEventsAsync(string returnId, string? trigger, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var prefix = trigger is null ? EventPrefix : $"{EventPrefix}{trigger}:";
        var filter = TableFilter.And(TableFilter.PartitionKeyEquals(returnId), TableFilter.RowKeyStartsWith(prefix));
        var events = new List<RecordedReturnEvent>();
        await foreach (var e in _store.QueryAsync(Table, filter, cancellationToken))
        {
            events.Add(new RecordedReturnEvent(
                e.GetString("Trigger") ?? "",
                e.GetString("DedupeKey") ?? "",
                e.GetDateTimeOffset("EventTime"),
                e.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.MinValue,
                await ReadBodyAsync(e, cancellationToken)));
        }

        return events.OrderBy(e => e.ReceivedAt).ToList();
    }

    /// <summary>True when the step was recorded as done.</summary>
    public async Task<bool> IsDoneAsync(string returnId, string step, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var e = await _store.GetAsync(Table, returnId, StepPrefix + step, cancellationToken);
        return e?.GetString("Status") == StepStatus.Done;
    }

    private static StepRecord ToStep(TableEntity e) => new(
        e.RowKey[StepPrefix.Length..],
        e.GetString("Status") ?? StepStatus.Started,
        e.GetString("DocumentId"),
        e.GetInt32("Attempts") ?? 1,
        e.GetDateTimeOffset("StartedAt"),
        e.GetDateTimeOffset("CompletedAt"))
    {
        LeaseUntil = e.GetDateTimeOffset(RowLease.UntilProperty),
    };

    /// <summary>The body the row points at; a blob gone missing means the row was replaced meanwhile, so a retry reads the new one.</summary>
    private async Task<byte[]> ReadBodyAsync(TableEntity entity, CancellationToken cancellationToken) =>
        await _bodies.ReadAsync(entity, BodyPrefix, cancellationToken)
            ?? throw new Errors.TransientIntegrationException($"The stored body of {entity.PartitionKey}/{entity.RowKey} is missing or does not match its length or hash (replaced meanwhile?).");

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _tableReady) == 1)
        {
            return;
        }

        await _store.CreateTableIfNotExistsAsync(Table, cancellationToken);
        Volatile.Write(ref _tableReady, 1);
    }

    [LoggerMessage(EventId = 4420, Level = LogLevel.Information, Message = "Return {ReturnId}: step {Step} taken over from a lease that ended at {LeaseUntil:o}")]
    private static partial void LogTakenOver(ILogger logger, string returnId, string step, DateTimeOffset? leaseUntil);
}

public enum SnapshotDecision
{
    /// <summary>This event is the newest known state (or a redelivery of it): bring Fulfil in line with it.</summary>
    Applied,

    /// <summary>A newer event was already applied; this one is older and is skipped.</summary>
    Stale,

    /// <summary>The very snapshot applied (byte for byte): nothing was written; reconcile from it as it stands.</summary>
    Unchanged,
}

public static class StepStatus
{
    public const string Started = "started";
    public const string Done = "done";
}

public sealed record ReturnSnapshotRecord(string ReturnId, DateTimeOffset EventTime, string State, byte[] Body);

/// <summary>A non-snapshot Loop event kept for the return (see <see cref="ReturnLedger.RecordEventAsync"/>).</summary>
public sealed record RecordedReturnEvent(string Trigger, string DedupeKey, DateTimeOffset? EventTime, DateTimeOffset ReceivedAt, byte[] Body);

public sealed record StepRecord(string Step, string Status, string? DocumentId, int Attempts, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt)
{
    /// <summary>When the last claim on the step ends (ended: at or before now); null for rows written before leases.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>True while a worker holds the step (a claim not yet completed, released or expired).</summary>
    public bool IsLeasedAt(DateTimeOffset now) => Status != StepStatus.Done && LeaseUntil is { } until && until > now;
}

/// <param name="DocumentId">The remote document (Fulfil id) the step produced or found.</param>
/// <param name="Created">True only when this call created it.</param>
public sealed record StepResult(string DocumentId, bool Created);
