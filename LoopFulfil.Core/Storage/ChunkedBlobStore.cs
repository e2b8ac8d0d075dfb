using System.Globalization;
using System.Security.Cryptography;
using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// How a body is laid out as binary properties: <c>{Prefix}{index}</c> (index zero-padded to
/// <see cref="IndexDigits"/>; with 0 digits and one chunk per entity the property is just <c>{Prefix}</c>), at most
/// <see cref="ChunksPerEntity"/> per entity, the rest on up to <see cref="MaxOverflowRows"/> overflow rows
/// <c>{row key}~{prefix in lower case}{n:00}</c>. Metadata on the head entity: <c>{Prefix}Chunks</c>,
/// <c>{Prefix}Length</c>, <c>{Prefix}Sha256</c>, <c>{Prefix}OverflowRows</c>.
/// </summary>
/// <remarks>
/// The names are those the tables already hold (returns: <c>Snapshot0…</c> + <c>SnapshotChunks</c>; exceptions:
/// <c>Body00…</c> + <c>BodyLength</c>/<c>BodySha256</c>/<c>BodyOverflowRows</c> and <c>~body01</c> rows), so nothing
/// stored needs migrating. Reads never assume a chunk size (earlier writers used 61,440 and 64,000 bytes) and accept
/// missing metadata: no count → chunks up to the first gap; no length/hash → nothing to verify.
/// </remarks>
/// <param name="OverflowProperties">Set on every overflow row (e.g. a <c>Kind</c> that keeps them out of record queries).</param>
public sealed record ChunkLayout(string Prefix, int IndexDigits, int ChunksPerEntity, int MaxOverflowRows, IReadOnlyDictionary<string, object?>? OverflowProperties = null)
{
    internal string ChunkName(int index) =>
        IndexDigits == 0 ? Prefix : Prefix + index.ToString("D" + IndexDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    internal string CountProperty => Prefix + "Chunks";

    internal string LengthProperty => Prefix + "Length";

    internal string ShaProperty => Prefix + "Sha256";

    internal string OverflowRowsProperty => Prefix + "OverflowRows";

    internal string OverflowRowKey(string rowKey, int n) =>
        string.Create(CultureInfo.InvariantCulture, $"{rowKey}~{Prefix.ToLowerInvariant()}{n:00}");

    internal bool IsChunkName(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) && (name.Length == Prefix.Length ? IndexDigits == 0 : !name.AsSpan(Prefix.Length).ContainsAnyExceptInRange('0', '9'));
}

/// <summary>
/// The one place bodies larger than a Table Storage property (64 KiB binary, 1 MiB entity) are cut into chunks of at
/// most <see cref="MaxChunkBytes"/> bytes and put back together: on an entity with overflow rows
/// (<see cref="WriteAsync"/>/<see cref="ReadAsync"/>; return snapshots and events, exception raw events), or as a
/// partition of rows of one chunk each (<see cref="WritePartitionAsync"/>/<see cref="ReadPartitionAsync"/>; claim-checked
/// message bodies).
/// </summary>
public sealed class ChunkedBlobStore
{
    /// <summary>Bytes per chunk written: under the 64 KiB binary property limit with room to spare.</summary>
    public const int MaxChunkBytes = 60_000;

    /// <summary>The single property of each row of a partition body.</summary>
    public const string PartitionDataProperty = "Data";

    // 16 rows of base64 (80 KB each) stay well inside a batch's 4 MiB payload limit.
    private const int RowsPerBatch = 16;

    private readonly ITableStore tables;

    public ChunkedBlobStore(ITableStore tables) => this.tables = tables;

    /// <summary>Hex SHA-256, as stored in <c>{Prefix}Sha256</c>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>Overflow rows the head currently points at (0 when none).</summary>
    public static int OverflowRowsOf(TableEntity head, ChunkLayout layout)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(layout);
        return head.GetInt32(layout.OverflowRowsProperty) ?? 0;
    }

    /// <summary>
    /// Puts <paramref name="body"/> on <paramref name="head"/> (replacing any chunks it carried) and upserts the overflow
    /// rows it needs, before the caller writes the head: a reader never finds a head pointing at rows not yet written.
    /// </summary>
    /// <exception cref="PermanentIntegrationException">The body needs more than the layout's chunks and overflow rows.</exception>
    public async Task WriteAsync(string table, TableEntity head, ReadOnlyMemory<byte> body, ChunkLayout layout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(layout);
        int chunks = (body.Length + MaxChunkBytes - 1) / MaxChunkBytes;
        int overflowRows = Math.Max(0, (chunks - 1) / layout.ChunksPerEntity);
        if (overflowRows > layout.MaxOverflowRows)
        {
            throw new PermanentIntegrationException(string.Create(CultureInfo.InvariantCulture,
                $"A body of {body.Length} bytes is larger than {table} keeps ({(layout.MaxOverflowRows + 1) * layout.ChunksPerEntity * MaxChunkBytes} bytes)."));
        }

        string sha = Sha256Hex(body.Span);
        foreach (string name in head.Properties.Keys.Where(layout.IsChunkName).ToList())
        {
            head.Properties.Remove(name);
        }

        SetChunks(head, body, 0, layout);
        for (int n = 1; n <= overflowRows; n++)
        {
            var overflow = new TableEntity(head.PartitionKey, layout.OverflowRowKey(head.RowKey, n)) { [layout.ShaProperty] = sha };
            foreach (var (name, value) in layout.OverflowProperties ?? new Dictionary<string, object?>())
            {
                overflow[name] = value;
            }

            SetChunks(overflow, body, n * layout.ChunksPerEntity, layout);
            await tables.UpsertAsync(table, overflow, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
        }

        head[layout.CountProperty] = chunks;
        head[layout.LengthProperty] = body.Length;
        head[layout.ShaProperty] = sha;
        head[layout.OverflowRowsProperty] = overflowRows;
    }

    /// <summary>
    /// The body stored on <paramref name="head"/> and its overflow rows: empty when none, null when the pieces do not add
    /// up to the recorded length and hash (a concurrent rewrite: read the head again).
    /// </summary>
    public async Task<byte[]?> ReadAsync(string table, TableEntity head, ChunkLayout layout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(layout);
        int? count = head.GetInt32(layout.CountProperty);
        int? length = head.GetInt32(layout.LengthProperty);
        string? sha = head.GetString(layout.ShaProperty);
        if (count is null && length is null)
        {
            return [];
        }

        int remaining = count ?? int.MaxValue;
        using var buffer = new MemoryStream(length ?? 0);
        remaining -= CopyChunks(head, layout, remaining, buffer);
        int overflowRows = OverflowRowsOf(head, layout);
        for (int n = 1; n <= overflowRows && remaining > 0; n++)
        {
            TableEntity? overflow = await tables.GetAsync(table, head.PartitionKey, layout.OverflowRowKey(head.RowKey, n), cancellationToken).ConfigureAwait(false);
            if (overflow is null)
            {
                return null;
            }

            remaining -= CopyChunks(overflow, layout, remaining, buffer);
        }

        byte[] body = buffer.ToArray();
        bool whole = (count is null || remaining == 0) && (length is null || body.Length == length) && (sha is null || Sha256Hex(body) == sha);
        return whole ? body : null;
    }

    /// <summary>Deletes overflow rows a shorter rewrite no longer uses (after the head was written).</summary>
    public async Task DeleteSurplusOverflowAsync(string table, TableEntity head, ChunkLayout layout, int previousOverflowRows, CancellationToken cancellationToken)
    {
        for (int n = OverflowRowsOf(head, layout) + 1; n <= previousOverflowRows; n++)
        {
            await tables.DeleteAsync(table, head.PartitionKey, layout.OverflowRowKey(head.RowKey, n), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes <paramref name="body"/> as rows of one chunk each in partition <paramref name="partition"/> (row keys from
    /// <paramref name="rowKey"/>, which must sort in index order), in atomic batches. An empty body still gets one row.
    /// </summary>
    public async Task WritePartitionAsync(string table, string partition, ReadOnlyMemory<byte> body, Func<int, string> rowKey, IReadOnlyDictionary<string, object?>? properties, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentNullException.ThrowIfNull(rowKey);
        var rows = new List<TableBatchOperation>();
        for (int offset = 0, index = 0; offset < body.Length || index == 0; offset += MaxChunkBytes, index++)
        {
            var row = new TableEntity(partition, rowKey(index)) { [PartitionDataProperty] = body.Slice(offset, Math.Min(MaxChunkBytes, body.Length - offset)).ToArray() };
            foreach (var (name, value) in properties ?? new Dictionary<string, object?>())
            {
                row[name] = value;
            }

            rows.Add(new TableBatchOperation(TableBatchAction.UpsertReplace, row));
        }

        foreach (var batch in rows.Chunk(RowsPerBatch))
        {
            await tables.SubmitBatchAsync(table, batch, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The rows of <paramref name="partition"/> joined in row-key order (empty when the partition is empty), and how many rows there were.</summary>
    public async Task<(byte[] Body, int Rows)> ReadPartitionAsync(string table, string partition, CancellationToken cancellationToken)
    {
        var chunks = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (TableEntity row in tables.QueryAsync(table, TableFilter.PartitionKeyEquals(partition), cancellationToken).ConfigureAwait(false))
        {
            if (row[PartitionDataProperty] is byte[] data)
            {
                chunks[row.RowKey] = data;
            }
        }

        var body = new byte[chunks.Values.Sum(c => (long)c.Length)];
        int at = 0;
        foreach (byte[] chunk in chunks.Values)
        {
            chunk.CopyTo(body, at);
            at += chunk.Length;
        }

        return (body, chunks.Count);
    }

    /// <summary>Deletes every row of <paramref name="partition"/>; returns how many went.</summary>
    public async Task<int> DeletePartitionAsync(string table, string partition, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (TableEntity row in tables.QueryAsync(table, TableFilter.PartitionKeyEquals(partition), cancellationToken).ConfigureAwait(false))
        {
            keys.Add(row.RowKey);
        }

        int deleted = 0;
        foreach (string key in keys)
        {
            if (await tables.DeleteAsync(table, partition, key, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }

    private static void SetChunks(TableEntity entity, ReadOnlyMemory<byte> body, int firstChunk, ChunkLayout layout)
    {
        for (int i = 0; i < layout.ChunksPerEntity; i++)
        {
            long offset = (long)(firstChunk + i) * MaxChunkBytes;
            if (offset >= body.Length)
            {
                break;
            }

            entity[layout.ChunkName(i)] = body.Slice((int)offset, Math.Min(MaxChunkBytes, body.Length - (int)offset)).ToArray();
        }
    }

    /// <returns>Chunks copied: up to the first gap or <paramref name="limit"/>.</returns>
    /// <remarks>
    /// Not bounded by the layout's chunks per entity, so rows written when an entity carried more chunks (before the
    /// share was lowered to fit Azurite's request limit) still read back whole.
    /// </remarks>
    private static int CopyChunks(TableEntity entity, ChunkLayout layout, int limit, MemoryStream destination)
    {
        int copied = 0;
        for (int i = 0; copied < limit; i++)
        {
            if (entity[layout.ChunkName(i)] is not byte[] chunk)
            {
                break;
            }

            destination.Write(chunk);
            copied++;
        }

        return copied;
    }
}
