namespace LoopFulfil.Core.Storage;

/// <summary>
/// The one seam between LoopFulfil and Azure Table Storage. The implementation on Azure.Core's pipeline is the only
/// file that knows the REST protocol, so moving to Azure.Data.Tables is one file.
/// Keys passed in are raw (SKUs with '/' or '#'); implementations escape them.
/// </summary>
public interface ITableStore
{
    Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken);

    /// <returns>The entity, or null when absent.</returns>
    Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken);

    /// <summary>
    /// Insert-if-absent: the idempotency primitive. A 409 is <see cref="InsertOutcome.AlreadyExists"/>, not an error.
    /// On success the entity's <see cref="TableEntity.ETag"/> is set (as after every successful write).
    /// </summary>
    Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken);

    /// <summary>Insert or merge (<see cref="UpsertMode.Merge"/>) / replace (<see cref="UpsertMode.Replace"/>).</summary>
    Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken);

    /// <summary>
    /// Optimistic update: writes only when the stored ETag still equals <see cref="TableEntity.ETag"/>
    /// (required; "*" forces). On <see cref="UpdateOutcome.Updated"/> the entity carries its new ETag.
    /// </summary>
    Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken);

    /// <returns>False when it was already absent.</returns>
    Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken);

    /// <summary>
    /// Streams every entity matching an OData filter (null: all), following continuation tokens page by page.
    /// Build filters with <see cref="TableFilter"/>: it quotes literals and escapes raw keys the way they are stored.
    /// </summary>
    IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken);

    /// <summary>
    /// Atomic batch inside one partition (at most 100 operations, each entity once). A rejected batch writes nothing
    /// and throws <see cref="TableBatchFailedException"/> carrying the failing operation's status (409, 412, 404).
    /// </summary>
    Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken);
}

public enum InsertOutcome
{
    Inserted,
    AlreadyExists,
}

public enum UpdateOutcome
{
    Updated,

    /// <summary>412: someone else wrote first; re-read and decide again.</summary>
    PreconditionFailed,

    NotFound,
}

public enum UpsertMode
{
    Merge,
    Replace,
}

public enum TableBatchAction
{
    Insert,
    UpsertMerge,
    UpsertReplace,
    Delete,
}

public sealed record TableBatchOperation(TableBatchAction Action, TableEntity Entity);

/// <summary>
/// An entity: keys, concurrency token and typed properties. Property values are string, bool, int, long, double,
/// decimal (stored as a string: Table Storage has no decimal), DateTimeOffset, Guid or byte[].
/// </summary>
public sealed class TableEntity
{
    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey;
        RowKey = rowKey;
    }

    /// <summary>Raw (unescaped) partition key.</summary>
    public string PartitionKey { get; }

    /// <summary>Raw (unescaped) row key.</summary>
    public string RowKey { get; }

    /// <summary>Set on read; required for <see cref="ITableStore.UpdateAsync"/> ("*" forces).</summary>
    public string? ETag { get; set; }

    public DateTimeOffset? Timestamp { get; set; }

    public Dictionary<string, object?> Properties { get; } = new(StringComparer.Ordinal);

    public object? this[string name]
    {
        get => Properties.TryGetValue(name, out var v) ? v : null;
        set => Properties[name] = value;
    }

    public string? GetString(string name) => this[name] as string;

    public int? GetInt32(string name) => this[name] switch
    {
        int i => i,
        long l => checked((int)l),
        _ => null,
    };

    public long? GetInt64(string name) => this[name] switch
    {
        long l => l,
        int i => i,
        _ => null,
    };

    public bool? GetBoolean(string name) => this[name] as bool?;

    public DateTimeOffset? GetDateTimeOffset(string name) => this[name] switch
    {
        DateTimeOffset d => d,
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        _ => null,
    };

    public decimal? GetDecimal(string name) => this[name] switch
    {
        decimal d => d,
        string s when decimal.TryParse(s, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };
}
