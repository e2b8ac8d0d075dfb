using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.CommerceSync;

/// <summary>Kinds of records mapped between Fulfil and Loop (the partition keys of the mapping table).</summary>
public static class CommerceKinds
{
    /// <summary>Fulfil <c>product.template</c> ↔ Loop product.</summary>
    public const string Product = "product";

    /// <summary>Fulfil <c>product.product</c> ↔ Loop product variant.</summary>
    public const string Variant = "variant";

    /// <summary>Fulfil <c>sale.sale</c> ↔ Loop order.</summary>
    public const string Order = "order";

    /// <summary>Fulfil <c>party.party</c> ↔ Loop customer.</summary>
    public const string Customer = "customer";

    /// <summary>Fulfil warehouse (<c>stock.location</c>) ↔ Loop location.</summary>
    public const string Location = "location";

    /// <summary>Sellable count of a variant at a warehouse (row key <c>{variantId}:{warehouseId}</c>).</summary>
    public const string Inventory = "inventory";
}

/// <summary>What happened the last time a record was pushed.</summary>
public enum CommerceOutcome
{
    /// <summary>Loop accepted the record; <see cref="CommerceMapping.ContentHash"/> is what it holds.</summary>
    Sent,

    /// <summary>Deliberately not sent (e.g. an order line whose product cannot be synced); see <see cref="CommerceMapping.Reason"/>.</summary>
    NotSent,

    /// <summary>Loop or Fulfil failed; the previous <see cref="CommerceMapping.ContentHash"/>, if any, is still what Loop holds.</summary>
    Failed,
}

/// <summary>One Fulfil id ↔ Loop id mapping with the outcome and content hash of the last push.</summary>
public sealed record CommerceMapping
{
    public required string Kind { get; init; }

    /// <summary>Fulfil id (for inventory, <c>{variantId}:{warehouseId}</c>).</summary>
    public required string FulfilId { get; init; }

    /// <summary>Loop's id, once Loop has accepted the record.</summary>
    public string? LoopId { get; init; }

    /// <summary>Hash of the body Loop last accepted; an equal hash means nothing to send.</summary>
    public string? ContentHash { get; init; }

    public CommerceOutcome Outcome { get; init; }

    /// <summary>Why the record was not sent or failed (ids and codes only, never personal data).</summary>
    public string? Reason { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Orders: the Loop status last sent (active, archived, cancelled, unknown).</summary>
    public string? Status { get; init; }

    /// <summary>Orders: the sale date, so the full pass can archive orders that left the return window.</summary>
    public DateTimeOffset? SaleDate { get; init; }

    /// <summary>Variants: the Fulfil template id (the Loop product's external id).</summary>
    public string? ParentId { get; init; }
}

/// <summary>A stored walk position: the keyset cursor and whether the walk reached its end.</summary>
public sealed record CommerceCheckpoint(FulfilCursor? Cursor, bool Finished, DateTimeOffset UpdatedAt);

/// <summary>
/// Id mappings and checkpoints of the commerce push in one table (<see cref="CommerceSyncOptions.TableName"/>):
/// partition = kind (<see cref="CommerceKinds"/>), row = Fulfil id; checkpoints in partition <c>checkpoint</c>.
/// </summary>
public sealed class CommerceMappingStore
{
    private const string CheckpointPartition = "checkpoint";
    private readonly ITableStore _tables;
    private readonly string _table;
    private readonly TimeProvider _time;
    private int _created;

    public CommerceMappingStore(ITableStore tables, IOptions<CommerceSyncOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        _tables = tables;
        _table = options.Value.TableName;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Creates the table once per process.</summary>
    public async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await _tables.CreateTableIfNotExistsAsync(_table, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _created, 1);
        }
    }

    /// <summary>Every mapping of <paramref name="kind"/>, by Fulfil id.</summary>
    public async Task<Dictionary<string, CommerceMapping>> LoadAsync(string kind, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, CommerceMapping>(StringComparer.Ordinal);
        await foreach (var entity in _tables.QueryAsync(_table, TableFilter.PartitionKeyEquals(kind), cancellationToken).ConfigureAwait(false))
        {
            result[entity.RowKey] = FromEntity(entity);
        }

        return result;
    }

    /// <summary>One mapping, or null.</summary>
    public async Task<CommerceMapping?> GetAsync(string kind, string fulfilId, CancellationToken cancellationToken)
    {
        var entity = await _tables.GetAsync(_table, kind, fulfilId, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : FromEntity(entity);
    }

    /// <summary>Writes (replaces) a mapping.</summary>
    public Task SaveAsync(CommerceMapping mapping, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return _tables.UpsertAsync(_table, ToEntity(mapping), UpsertMode.Replace, cancellationToken);
    }

    /// <summary>
    /// Writes (replaces) many mappings as entity group transactions: one request per partition and 100 rows, which
    /// keeps the mapping table from pacing the push. The last mapping of a row wins when a row repeats.
    /// </summary>
    public async Task SaveManyAsync(IReadOnlyCollection<CommerceMapping> mappings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        foreach (var partition in mappings.GroupBy(m => m.Kind, StringComparer.Ordinal))
        {
            var latest = partition.GroupBy(m => m.FulfilId, StringComparer.Ordinal).Select(g => g.Last());
            foreach (var chunk in latest.Chunk(100))
            {
                var operations = chunk.Select(m => new TableBatchOperation(TableBatchAction.UpsertReplace, ToEntity(m))).ToList();
                await _tables.SubmitBatchAsync(_table, operations, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private TableEntity ToEntity(CommerceMapping mapping)
    {
        return new TableEntity(mapping.Kind, mapping.FulfilId)
        {
            ["LoopId"] = mapping.LoopId,
            ["ContentHash"] = mapping.ContentHash,
            ["Outcome"] = mapping.Outcome.ToString(),
            ["Reason"] = Truncate(mapping.Reason, 1000),
            ["UpdatedAt"] = mapping.UpdatedAt == default ? _time.GetUtcNow() : mapping.UpdatedAt,
            ["Status"] = mapping.Status,
            ["SaleDate"] = mapping.SaleDate,
            ["ParentId"] = mapping.ParentId,
        };
    }

    /// <summary>The checkpoint of <paramref name="stream"/>/<paramref name="name"/>, or null when never written.</summary>
    public async Task<CommerceCheckpoint?> GetCheckpointAsync(string stream, string name, CancellationToken cancellationToken)
    {
        var entity = await _tables.GetAsync(_table, CheckpointPartition, stream + ":" + name, cancellationToken).ConfigureAwait(false);
        if (entity is null)
        {
            return null;
        }

        var cursor = entity.GetDateTimeOffset("CursorWriteDate") is { } at && entity.GetInt32("CursorId") is { } id
            ? new FulfilCursor(at.UtcDateTime, id)
            : null;
        return new CommerceCheckpoint(cursor, entity.GetBoolean("Finished") ?? false, entity.GetDateTimeOffset("UpdatedAt") ?? default);
    }

    /// <summary>Writes a checkpoint.</summary>
    public Task SaveCheckpointAsync(string stream, string name, CommerceCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var entity = new TableEntity(CheckpointPartition, stream + ":" + name)
        {
            ["CursorWriteDate"] = checkpoint.Cursor is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c.WriteDate, DateTimeKind.Utc)) : null,
            ["CursorId"] = checkpoint.Cursor?.Id,
            ["Finished"] = checkpoint.Finished,
            ["UpdatedAt"] = checkpoint.UpdatedAt,
        };
        return _tables.UpsertAsync(_table, entity, UpsertMode.Replace, cancellationToken);
    }

    /// <summary>Removes every checkpoint of <paramref name="stream"/> (a new backfill or full pass starts from the beginning).</summary>
    public async Task ResetStreamAsync(string stream, CancellationToken cancellationToken)
    {
        var prefix = stream + ":";
        var rows = new List<string>();
        await foreach (var entity in _tables.QueryAsync(_table, TableFilter.And(TableFilter.PartitionKeyEquals(CheckpointPartition), TableFilter.RowKeyStartsWith(prefix)), cancellationToken).ConfigureAwait(false))
        {
            rows.Add(entity.RowKey);
        }

        foreach (var row in rows)
        {
            await _tables.DeleteAsync(_table, CheckpointPartition, row, cancellationToken).ConfigureAwait(false);
        }
    }

    private static CommerceMapping FromEntity(TableEntity e) => new()
    {
        Kind = e.PartitionKey,
        FulfilId = e.RowKey,
        LoopId = e.GetString("LoopId"),
        ContentHash = e.GetString("ContentHash"),
        Outcome = Enum.TryParse<CommerceOutcome>(e.GetString("Outcome"), out var o) ? o : CommerceOutcome.Failed,
        Reason = e.GetString("Reason"),
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
        Status = e.GetString("Status"),
        SaleDate = e.GetDateTimeOffset("SaleDate"),
        ParentId = e.GetString("ParentId"),
    };

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
