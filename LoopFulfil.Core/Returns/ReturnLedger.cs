using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// What LoopFulfil has done for each Loop return: the newest snapshot applied, and one record per step
/// (return order, receipt, restock move, credit note, journal, exchange order, write-back).
/// Table <c>returns</c>: partition = Loop return id; row <c>record</c> for the snapshot, <c>step:{name}</c> per step.
/// </summary>
/// <remarks>
/// Every step is idempotent twice over. The step row is inserted-if-absent before the remote call, and before every
/// create the remote side is searched by a deterministic key (channel_identifier, LOOP-{id}-… references). So a crash
/// between "created in Fulfil" and "recorded here" finds the document on redelivery instead of creating a second one.
/// One return's events are handled one at a time (Service Bus sessions, or the local host's partitions), which is why
/// no lock is taken here beyond the ETag on the snapshot row.
/// </remarks>
public sealed class ReturnLedger
{
    public const string Table = "returns";
    private const string RecordRow = "record";
    private const string StepPrefix = "step:";
    private const string EventPrefix = "event:";

    // Snapshot0…Snapshot14 with SnapshotChunks on the row itself (15 × 60,000 bytes), no overflow rows: the event
    // rows are found by row-key prefix, where overflow rows would be in the way.
    // One row, so a snapshot update stays a single ETag-checked write; 12 chunks (720,000 bytes) keep that write under
    // the 1 MB request Azurite accepts for an update (see ExceptionService.BodyLayout).
    internal static readonly ChunkLayout SnapshotLayout = new("Snapshot", IndexDigits: 1, ChunksPerEntity: StorageLimits.MaxEventBodyBytes / ChunkedBlobStore.MaxChunkBytes, MaxOverflowRows: 0);

    private readonly ITableStore _store;
    private readonly ChunkedBlobStore _blobs;
    private readonly TimeProvider _time;
    private readonly LoopFulfilMetrics _metrics;
    private int _tableReady;

    public ReturnLedger(ITableStore store, TimeProvider time, LoopFulfilMetrics? metrics = null)
    {
        _store = store;
        _blobs = new ChunkedBlobStore(store);
        _time = time;
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
    }

    /// <summary>
    /// Records <paramref name="snapshot"/> as the newest known state of the return unless a newer one was already
    /// applied (Loop delivers out of order). Equal timestamps count as current: redeliveries are re-applied,
    /// which is safe because every step is idempotent.
    /// </summary>
    public async Task<SnapshotDecision> AdvanceSnapshotAsync(string returnId, DateTimeOffset eventTime, string state, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await _store.GetAsync(Table, returnId, RecordRow, cancellationToken);
            if (existing is not null && existing.GetDateTimeOffset("EventTime") is { } applied && applied > eventTime)
            {
                return SnapshotDecision.Stale;
            }

            var entity = new TableEntity(returnId, RecordRow)
            {
                ["EventTime"] = eventTime,
                ["State"] = state,
                ["UpdatedAt"] = _time.GetUtcNow(),
            };
            await _blobs.WriteAsync(Table, entity, snapshot, SnapshotLayout, cancellationToken);
            if (existing is null)
            {
                if (await _store.InsertAsync(Table, entity, cancellationToken) == InsertOutcome.Inserted)
                {
                    return SnapshotDecision.Applied;
                }

                continue;
            }

            entity.ETag = existing.ETag;
            if (await _store.UpdateAsync(Table, entity, UpsertMode.Merge, cancellationToken) == UpdateOutcome.Updated)
            {
                return SnapshotDecision.Applied;
            }
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
    /// Runs a step at most once per return: returns the recorded document when the step is done; otherwise looks the
    /// document up remotely (<paramref name="findExisting"/>) and only when absent creates it (<paramref name="create"/>).
    /// </summary>
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
        var existing = await _store.GetAsync(Table, returnId, row, cancellationToken);
        if (existing?.GetString("Status") == StepStatus.Done)
        {
            return new StepResult(existing.GetString("DocumentId") ?? "", Created: false);
        }

        var now = _time.GetUtcNow();
        if (existing is null)
        {
            var started = new TableEntity(returnId, row) { ["Status"] = StepStatus.Started, ["StartedAt"] = now, ["Attempts"] = 1 };
            await _store.InsertAsync(Table, started, cancellationToken);
        }
        else
        {
            var retry = new TableEntity(returnId, row) { ["Attempts"] = (existing.GetInt32("Attempts") ?? 1) + 1, ETag = "*" };
            await _store.UpdateAsync(Table, retry, UpsertMode.Merge, cancellationToken);
        }

        var documentId = await findExisting(cancellationToken);
        var created = false;
        if (documentId is null)
        {
            documentId = await create(cancellationToken);
            created = true;
        }

        var done = new TableEntity(returnId, row)
        {
            ["Status"] = StepStatus.Done,
            ["DocumentId"] = documentId,
            ["CompletedAt"] = _time.GetUtcNow(),
            ["FoundExisting"] = !created,
            ETag = "*",
        };
        await _store.UpdateAsync(Table, done, UpsertMode.Merge, cancellationToken);
        if (created && LoopFulfilMetrics.DocumentTypeOfStep(step) is { } documentType)
        {
            // Counted here, the one place that knows a document was created rather than found.
            _metrics.DocumentPosted(documentType);
        }

        return new StepResult(documentId, created);
    }

    /// <summary>Marks a step done without a remote document (e.g. a write-back that needs no id).</summary>
    public Task<StepResult> EnsureStepAsync(string returnId, string step, Func<CancellationToken, Task<string>> run, CancellationToken cancellationToken) =>
        EnsureStepAsync(returnId, step, _ => Task.FromResult<string?>(null), run, cancellationToken);

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

        await _blobs.WriteAsync(Table, entity, body, SnapshotLayout, cancellationToken);
        return await _store.InsertAsync(Table, entity, cancellationToken) == InsertOutcome.Inserted;
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
        e.GetDateTimeOffset("CompletedAt"));

    /// <summary>The body on one row (no overflow rows, so a read is never torn: the row is one write).</summary>
    private async Task<byte[]> ReadBodyAsync(TableEntity entity, CancellationToken cancellationToken) =>
        await _blobs.ReadAsync(Table, entity, SnapshotLayout, cancellationToken)
            ?? throw new Errors.PermanentIntegrationException($"The stored body of {entity.PartitionKey}/{entity.RowKey} does not match its length or hash.");

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _tableReady) == 1)
        {
            return;
        }

        await _store.CreateTableIfNotExistsAsync(Table, cancellationToken);
        Volatile.Write(ref _tableReady, 1);
    }
}

public enum SnapshotDecision
{
    /// <summary>This event is the newest known state (or a redelivery of it): bring Fulfil in line with it.</summary>
    Applied,

    /// <summary>A newer event was already applied; this one is older and is skipped.</summary>
    Stale,
}

public static class StepStatus
{
    public const string Started = "started";
    public const string Done = "done";
}

public sealed record ReturnSnapshotRecord(string ReturnId, DateTimeOffset EventTime, string State, byte[] Body);

/// <summary>A non-snapshot Loop event kept for the return (see <see cref="ReturnLedger.RecordEventAsync"/>).</summary>
public sealed record RecordedReturnEvent(string Trigger, string DedupeKey, DateTimeOffset? EventTime, DateTimeOffset ReceivedAt, byte[] Body);

public sealed record StepRecord(string Step, string Status, string? DocumentId, int Attempts, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt);

/// <param name="DocumentId">The remote document (Fulfil id) the step produced or found.</param>
/// <param name="Created">True only when this call created it.</param>
public sealed record StepResult(string DocumentId, bool Created);
