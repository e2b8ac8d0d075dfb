using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Exceptions;

/// <summary>
/// Exception records with owners: raise (deduplicated), list, get, resolve, replay. Records live in the
/// <c>exceptions</c> table (partition = category, row = hash of return id and detail key); every raise also
/// publishes an alert to the <c>exceptions</c> queue.
/// </summary>
public sealed partial class ExceptionService
{
    /// <summary>Table holding the records (large raw events are in Blob storage, see <see cref="BodyStore"/>).</summary>
    public const string TableName = "exceptions";

    // Raw events: Body (inline) or BodyBlob, with BodyLength and BodySha256, on the record itself.
    internal const string BodyPrefix = "Body";
    private const int MaxMessageChars = 4_000;
    private const int MaxUpdateAttempts = 10;
    private const string KindRecord = "record";

    private readonly ITableStore _table;
    private readonly BodyStore _bodies;
    private readonly IMessageSender _sender;
    private readonly IOptionsMonitor<ExceptionOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ExceptionService> _logger;
    private readonly LoopFulfilMetrics _metrics;
    private volatile bool _tableReady;

    public ExceptionService(ITableStore table, IBlobStore blobs, IMessageSender sender, IOptionsMonitor<ExceptionOptions> options, TimeProvider time, ILogger<ExceptionService> logger, LoopFulfilMetrics? metrics = null)
    {
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
        _table = table;
        _bodies = new BodyStore(blobs);
        _sender = sender;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Records a problem. The first raise of a (category, return id, detail key) inserts a record with attempts 1;
    /// a repeat bumps attempts and last seen, refreshes message/owner/raw event, and reopens it. Publishes an alert.
    /// </summary>
    public async Task<ExceptionRecord> RaiseAsync(ExceptionRaise raise, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raise);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);

        var current = _options.CurrentValue;
        string[] skus = [.. raise.Skus.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var detailKey = raise.DetailKey ?? (skus.Length > 0 ? string.Join(',', skus) : string.Empty);
        var partition = raise.Category.ToString();
        var row = RowKeyFor(raise.Category, raise.ReturnId, detailKey);
        var owner = current.OwnerOf(raise.OwnerAs ?? raise.Category);
        var now = _time.GetUtcNow();
        var bodySha = raise.RawEvent.IsEmpty ? null : BodyStore.Sha256Hex(raise.RawEvent.Span);

        ExceptionRecord? stored = null;
        for (var attempt = 0; attempt < MaxUpdateAttempts && stored is null; attempt++)
        {
            var existing = await _table.GetAsync(TableName, partition, row, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                var entity = new TableEntity(partition, row)
                {
                    ["Kind"] = KindRecord,
                    ["Category"] = partition,
                    ["Owner"] = owner,
                    ["Status"] = nameof(ExceptionStatus.Open),
                    ["FirstSeen"] = now,
                    ["LastSeen"] = now,
                    ["Attempts"] = 1,
                    ["ReplayCount"] = 0,
                    ["Message"] = Truncate(raise.Message, MaxMessageChars),
                };
                SetOptional(entity, "ReturnId", raise.ReturnId);
                SetOptional(entity, "DetailKey", detailKey.Length == 0 ? null : Truncate(detailKey, 1_000));
                SetOptional(entity, "Skus", skus.Length == 0 ? null : string.Join('\n', skus));
                SetOptional(entity, "Source", raise.Source);
                if (bodySha is not null)
                {
                    SetOptional(entity, "ReplayQueue", raise.ReplayQueue);
                    await _bodies.WriteAsync(TableName, entity, BodyPrefix, raise.RawEvent, cancellationToken).ConfigureAwait(false);
                }

                if (await _table.InsertAsync(TableName, entity, cancellationToken).ConfigureAwait(false) == InsertOutcome.Inserted)
                {
                    stored = ToRecord(entity);
                }
                else
                {
                    await _bodies.DiscardAsync(_table, TableName, entity, BodyPrefix, cancellationToken).ConfigureAwait(false);
                }

                // AlreadyExists: someone raised the same problem concurrently; loop round and update theirs.
                continue;
            }

            var previousBlob = BodyStore.BlobOf(existing, BodyPrefix);
            existing["Owner"] = owner;
            existing["Status"] = nameof(ExceptionStatus.Open);
            existing["LastSeen"] = now;
            existing["Attempts"] = (existing.GetInt32("Attempts") ?? 0) + 1;
            existing["Message"] = Truncate(raise.Message, MaxMessageChars);
            existing.Properties.Remove("ResolvedAt");
            existing.Properties.Remove("ResolutionNote");
            existing.Properties.Remove("Resolution");
            SetOptional(existing, "Source", raise.Source);
            if (bodySha is not null)
            {
                // The queue belongs with the raw event it replays.
                SetOptional(existing, "ReplayQueue", raise.ReplayQueue);
            }

            if (bodySha is not null && !string.Equals(existing.GetString("BodySha256"), bodySha, StringComparison.Ordinal))
            {
                // The latest failing event is the one to replay: it carries the return's newest state.
                await _bodies.WriteAsync(TableName, existing, BodyPrefix, raise.RawEvent, cancellationToken).ConfigureAwait(false);
            }

            var outcome = await _table.UpdateAsync(TableName, existing, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
            if (outcome == UpdateOutcome.Updated)
            {
                stored = ToRecord(existing);
                await _bodies.ReleaseAsync(previousBlob, existing, BodyPrefix, cancellationToken).ConfigureAwait(false);
            }
            else if (!string.Equals(previousBlob, BodyStore.BlobOf(existing, BodyPrefix), StringComparison.Ordinal))
            {
                await _bodies.DiscardAsync(_table, TableName, existing, BodyPrefix, cancellationToken).ConfigureAwait(false);
            }
        }

        if (stored is null)
        {
            throw new TransientIntegrationException($"Exception record {partition}-{row} kept changing under concurrent writers; retry.");
        }

        LogRaised(_logger, stored.Id, stored.Category, stored.Owner, stored.ReturnId, stored.Attempts);
        _metrics.ExceptionRecorded(stored.Category.ToString(), stored.Owner);
        await _sender.SendAsync(BuildAlert(stored, current.FlagReturnInLoop), cancellationToken).ConfigureAwait(false);
        return stored;
    }

    /// <summary>Records matching the filters (null: any), without raw events. Order: by category, then row.</summary>
    public async IAsyncEnumerable<ExceptionRecord> ListAsync(ExceptionStatus? status, ExceptionCategory? category, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var clauses = new List<string> { TableFilter.Equal("Kind", KindRecord) };
        if (status is { } s)
        {
            clauses.Add(TableFilter.Equal("Status", s.ToString()));
        }

        if (category is { } c)
        {
            clauses.Add(TableFilter.PartitionKeyEquals(c.ToString()));
        }

        var filter = TableFilter.And([.. clauses]);

        await foreach (var entity in _table.QueryAsync(TableName, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(entity);
        }
    }

    /// <summary>One record with its raw event, or null.</summary>
    public async Task<ExceptionRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var partition, out var row))
        {
            return null;
        }

        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var entity = await _table.GetAsync(TableName, partition, row, cancellationToken).ConfigureAwait(false);
            if (entity is null || entity.GetString("Kind") != KindRecord)
            {
                return null;
            }

            var body = await _bodies.ReadAsync(entity, BodyPrefix, cancellationToken).ConfigureAwait(false);
            if (body is not null)
            {
                return ToRecord(entity) with { RawEvent = body };
            }

            // The body was being rewritten by a concurrent raise: read again.
        }

        throw new TransientIntegrationException($"Raw event of exception {id} is being rewritten; retry.");
    }

    /// <summary>Marks a record resolved (by a person, without replay). Null when not found.</summary>
    public Task<ExceptionRecord?> ResolveAsync(string id, string? note, CancellationToken cancellationToken) =>
        ResolveAsync(id, note, ExceptionResolution.Fixed, cancellationToken);

    /// <summary>
    /// Marks a record resolved with what the person said. <see cref="ExceptionResolution.NothingToPost"/> is accepted
    /// only for <see cref="ExceptionCategory.ClosedWithoutProcessing"/>. Null when not found.
    /// </summary>
    /// <exception cref="ArgumentException">NothingToPost for another category.</exception>
    public async Task<ExceptionRecord?> ResolveAsync(string id, string? note, ExceptionResolution resolution, CancellationToken cancellationToken)
    {
        if (resolution == ExceptionResolution.NothingToPost && (!TryParseId(id, out var partition, out _) || partition != nameof(ExceptionCategory.ClosedWithoutProcessing)))
        {
            throw new ArgumentException($"Only a {nameof(ExceptionCategory.ClosedWithoutProcessing)} record can be resolved as nothing to post ({id}).", nameof(resolution));
        }

        var updated = await UpdateRecordAsync(id, entity =>
        {
            entity["Status"] = nameof(ExceptionStatus.Resolved);
            entity["ResolvedAt"] = _time.GetUtcNow();
            SetOptional(entity, "ResolutionNote", note is null ? null : Truncate(note, MaxMessageChars));
            SetOptional(entity, "Resolution", resolution == ExceptionResolution.Fixed ? null : resolution.ToString());
        }, cancellationToken).ConfigureAwait(false);
        return updated is null ? null : ToRecord(updated);
    }

    /// <summary>
    /// Resolves the record of (<paramref name="category"/>, <paramref name="returnId"/>, <paramref name="detailKey"/>)
    /// when it is still open or replayed — for problems the integration sees disappear by itself. Null when there is
    /// no such record or it was already resolved.
    /// </summary>
    public async Task<ExceptionRecord?> ResolveIfOpenAsync(ExceptionCategory category, string? returnId, string detailKey, string note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(detailKey);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var id = IdFor(category, returnId, detailKey);
        var current = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        return current is null || current.Status == ExceptionStatus.Resolved ? null : await ResolveAsync(id, note, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Re-enqueues the record's original raw event under a fresh but deterministic MessageId (so Service Bus duplicate
    /// detection does not drop it) and marks it replayed: a Loop webhook onto <c>loop-returns</c> (the <c>dedupeKey</c>
    /// property keeps the original), or, when the record names a <see cref="ExceptionRecord.ReplayQueue"/>, the stored
    /// message as it is onto that queue (e.g. an exchange message onto <c>loop-exchanges</c>).
    /// </summary>
    public async Task<ReplayResult> ReplayAsync(string id, CancellationToken cancellationToken)
    {
        var record = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return new ReplayResult(ReplayOutcome.NotFound, null, null, $"No exception record {id}.");
        }

        if (record.RawEvent.IsEmpty)
        {
            return new ReplayResult(ReplayOutcome.NoRawEvent, record, null, "The record holds no raw event to replay.");
        }

        var replayNumber = record.ReplayCount + 1;
        var message = record.ReplayQueue is { Length: > 0 } queue && queue != QueueNames.LoopReturns
            ? QueueReplay(record, queue, replayNumber)
            : WebhookIngress.TryBuildMessage(
                record.RawEvent,
                string.Create(CultureInfo.InvariantCulture, $":replay:{replayNumber}"),
                record.Id);
        if (message is null)
        {
            return new ReplayResult(ReplayOutcome.NotRoutable, record, null, WebhookIngress.DescribeRoutingProblem(record.RawEvent.Span));
        }

        await _sender.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var updated = await UpdateRecordAsync(id, entity =>
        {
            entity["Status"] = nameof(ExceptionStatus.Replayed);
            entity["ReplayCount"] = Math.Max(replayNumber, (entity.GetInt32("ReplayCount") ?? 0) + 1);
            entity["LastReplayedAt"] = _time.GetUtcNow();
        }, cancellationToken).ConfigureAwait(false);
        LogReplayed(_logger, id, message.MessageId);
        return new ReplayResult(ReplayOutcome.Replayed, updated is null ? record : ToRecord(updated), message.MessageId, null);
    }

    /// <summary>The stored message re-sent as it is: its consumer is idempotent (ledger steps), the id only has to be new.</summary>
    private static OutboundMessage QueueReplay(ExceptionRecord record, string queue, int replayNumber)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["replayOf"] = record.Id };
        if (record.ReturnId is not null)
        {
            properties["returnId"] = record.ReturnId;
        }

        return new OutboundMessage(queue, record.RawEvent, string.Create(CultureInfo.InvariantCulture, $"{record.Id}:replay:{replayNumber}"), null, properties);
    }

    /// <summary>Replays every open record of a category (e.g. after fixing master data), one by one.</summary>
    public async Task<IReadOnlyList<ReplayResult>> ReplayAllOpenAsync(ExceptionCategory category, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var record in ListAsync(ExceptionStatus.Open, category, cancellationToken).ConfigureAwait(false))
        {
            ids.Add(record.Id);
        }

        var results = new List<ReplayResult>(ids.Count);
        foreach (var id in ids)
        {
            results.Add(await ReplayAsync(id, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>Splits <c>{Category}-{row}</c>.</summary>
    public static bool TryParseId(string? id, out string partition, out string row)
    {
        partition = row = string.Empty;
        var dash = id?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (id is null || dash <= 0 || dash == id.Length - 1 || !Enum.TryParse(id.AsSpan(0, dash), out ExceptionCategory category) || !Enum.IsDefined(category))
        {
            return false;
        }

        partition = category.ToString();
        row = id[(dash + 1)..];
        return partition == id[..dash] && row.All(char.IsAsciiHexDigitLower);
    }

    /// <summary>The id the record of (<paramref name="category"/>, <paramref name="returnId"/>, <paramref name="detailKey"/>) has or will have.</summary>
    public static string IdFor(ExceptionCategory category, string? returnId, string detailKey) => $"{category}-{RowKeyFor(category, returnId, detailKey)}";

    internal static string RowKeyFor(ExceptionCategory category, string? returnId, string detailKey)
    {
        var key = string.Join('\n', category.ToString(), returnId ?? string.Empty, detailKey);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_tableReady)
        {
            await _table.CreateTableIfNotExistsAsync(TableName, cancellationToken).ConfigureAwait(false);
            _tableReady = true;
        }
    }

    private async Task<TableEntity?> UpdateRecordAsync(string id, Action<TableEntity> change, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var partition, out var row))
        {
            return null;
        }

        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            var entity = await _table.GetAsync(TableName, partition, row, cancellationToken).ConfigureAwait(false);
            if (entity is null || entity.GetString("Kind") != KindRecord)
            {
                return null;
            }

            change(entity);
            if (await _table.UpdateAsync(TableName, entity, UpsertMode.Replace, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
            {
                return entity;
            }
        }

        throw new TransientIntegrationException($"Exception record {id} kept changing under concurrent writers; retry.");
    }

    private static ExceptionRecord ToRecord(TableEntity entity)
    {
        // A record whose status cannot be read is shown as open: better a false alarm than a hidden problem.
        var status = Enum.TryParse(entity.GetString("Status"), out ExceptionStatus s) ? s : ExceptionStatus.Open;
        var category = Enum.Parse<ExceptionCategory>(entity.PartitionKey);
        var skus = entity.GetString("Skus");
        return new ExceptionRecord
        {
            Id = $"{entity.PartitionKey}-{entity.RowKey}",
            Category = category,
            Owner = entity.GetString("Owner") ?? string.Empty,
            ReturnId = entity.GetString("ReturnId"),
            DetailKey = entity.GetString("DetailKey"),
            Skus = string.IsNullOrEmpty(skus) ? [] : skus.Split('\n'),
            Message = entity.GetString("Message") ?? string.Empty,
            Source = entity.GetString("Source"),
            Status = status,
            FirstSeen = entity.GetDateTimeOffset("FirstSeen") ?? DateTimeOffset.MinValue,
            LastSeen = entity.GetDateTimeOffset("LastSeen") ?? DateTimeOffset.MinValue,
            Attempts = entity.GetInt32("Attempts") ?? 0,
            ReplayCount = entity.GetInt32("ReplayCount") ?? 0,
            LastReplayedAt = entity.GetDateTimeOffset("LastReplayedAt"),
            ResolvedAt = entity.GetDateTimeOffset("ResolvedAt"),
            ResolutionNote = entity.GetString("ResolutionNote"),
            Resolution = Enum.TryParse(entity.GetString("Resolution"), out ExceptionResolution resolution) ? resolution : ExceptionResolution.Fixed,
            RawEventLength = entity.GetInt32("BodyLength") ?? 0,
            RawEventSha256 = entity.GetString("BodySha256"),
            ReplayQueue = entity.GetString("ReplayQueue"),
        };
    }

    /// <summary>The alert for the <c>exceptions</c> queue: ids, category, owner, counts. Never the raw event.</summary>
    private static OutboundMessage BuildAlert(ExceptionRecord record, bool flagReturnInLoop)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", record.Id);
            writer.WriteString("category", record.Category.ToString());
            writer.WriteString("owner", record.Owner);
            writer.WriteString("returnId", record.ReturnId);
            writer.WriteStartArray("skus");
            foreach (var sku in record.Skus)
            {
                writer.WriteStringValue(sku);
            }

            writer.WriteEndArray();
            writer.WriteString("message", record.Message);
            writer.WriteString("source", record.Source);
            writer.WriteString("status", record.Status.ToString());
            writer.WriteNumber("attempts", record.Attempts);
            writer.WriteString("firstSeen", record.FirstSeen);
            writer.WriteString("lastSeen", record.LastSeen);
            writer.WriteBoolean("flagReturnInLoop", flagReturnInLoop && record.ReturnId is not null);
            writer.WriteEndObject();
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["category"] = record.Category.ToString(),
            ["owner"] = record.Owner,
            ["attempts"] = record.Attempts.ToString(CultureInfo.InvariantCulture),
            ["flagReturnInLoop"] = (flagReturnInLoop && record.ReturnId is not null) ? "true" : "false",
        };
        if (record.ReturnId is not null)
        {
            properties["returnId"] = record.ReturnId;
        }

        return new OutboundMessage(
            QueueNames.Exceptions,
            buffer.WrittenMemory,
            string.Create(CultureInfo.InvariantCulture, $"{record.Id}:{record.Attempts}"),
            null,
            properties);
    }

    private static void SetOptional(TableEntity entity, string name, string? value)
    {
        if (value is null)
        {
            entity.Properties.Remove(name);
        }
        else
        {
            entity[name] = value;
        }
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Exception {ExceptionId} ({ExceptionCategory}) for return {ReturnId} raised, owner {Owner}, attempt {Attempts}")]
    private static partial void LogRaised(ILogger logger, string exceptionId, ExceptionCategory exceptionCategory, string owner, string? returnId, int attempts);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Exception {ExceptionId} replayed as message {MessageId}")]
    private static partial void LogReplayed(ILogger logger, string exceptionId, string messageId);
}
