using System.Globalization;
using System.Security.Cryptography;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.LocalHost;

/// <summary>
/// Claim-check for the single-machine queue: a body too large for a queue message (Loop webhooks may reach 1 MiB,
/// a queue envelope 48 KiB) is stored in Table Storage and the envelope carries only a reference to it, in the
/// <see cref="ReferenceProperty"/> application property. Service Bus Premium takes such messages whole, so only this
/// host needs it; handlers never see the difference (<see cref="ResolveAsync"/> runs before them).
/// </summary>
/// <remarks>
/// Rows: partition = claim id, rows <c>c00000</c>, <c>c00001</c>… with up to <see cref="ChunkBytes"/> each (a binary
/// property holds at most 64 KiB), written in batches before the envelope is sent. Rows are not deleted when the
/// message completes (a redelivery after a lost delete still needs them); <see cref="PruneAsync"/> removes them after
/// <see cref="Retention"/>, longer than a queue message lives (7 days).
/// </remarks>
public sealed class LocalClaimCheck
{
    /// <summary>Table holding stored bodies.</summary>
    public const string Table = "claimcheck";

    /// <summary>Envelope property naming the stored body: <c>{claim id}:{length}:{sha256 hex}</c>.</summary>
    public const string ReferenceProperty = "LoopFulfil-ClaimCheck";

    /// <summary>Bytes per row.</summary>
    public const int ChunkBytes = 60_000;

    /// <summary>How long stored bodies are kept: beyond the queue message time-to-live of 7 days.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    // 16 rows of base64 (80 KB each) stay well inside a batch's 4 MiB payload limit.
    private const int RowsPerBatch = 16;
    private const string DataProperty = "Data";
    private const string StoredAtProperty = "StoredAt";

    private readonly ITableStore _tables;
    private readonly TimeProvider _time;
    private volatile bool _tableReady;

    public LocalClaimCheck(ITableStore tables, TimeProvider time)
    {
        _tables = tables;
        _time = time;
    }

    /// <summary>Stores <paramref name="body"/> under <paramref name="claimId"/>; returns the reference to put in the envelope.</summary>
    public async Task<string> StoreAsync(string claimId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimId);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var rows = new List<TableBatchOperation>();
        for (int offset = 0, index = 0; offset < body.Length || index == 0; offset += ChunkBytes, index++)
        {
            var chunk = body.Slice(offset, Math.Min(ChunkBytes, body.Length - offset));
            rows.Add(new TableBatchOperation(TableBatchAction.UpsertReplace, new TableEntity(claimId, RowKey(index))
            {
                [DataProperty] = chunk.ToArray(),
                [StoredAtProperty] = now,
            }));
        }

        foreach (var batch in rows.Chunk(RowsPerBatch))
        {
            await _tables.SubmitBatchAsync(Table, batch, cancellationToken).ConfigureAwait(false);
        }

        return Reference(claimId, body.Span);
    }

    /// <summary>The reference <see cref="StoreAsync"/> returns for this body (computed without storing).</summary>
    public static string Reference(string claimId, ReadOnlySpan<byte> body) =>
        string.Create(CultureInfo.InvariantCulture, $"{claimId}:{body.Length}:{Convert.ToHexStringLower(SHA256.HashData(body))}");

    /// <summary>
    /// Returns <paramref name="message"/> with its stored body in place when it carries a claim reference (and without
    /// the reference property), otherwise the message itself.
    /// </summary>
    /// <exception cref="PermanentIntegrationException">The stored body is missing or does not match its reference.</exception>
    public async Task<InboundMessage> ResolveAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.Properties.TryGetValue(ReferenceProperty, out var reference))
        {
            return message;
        }

        var parts = reference.Split(':');
        if (parts.Length != 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new PermanentIntegrationException($"Message {message.MessageId} has a malformed claim-check reference.");
        }

        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var chunks = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var row in _tables.QueryAsync(Table, TableFilter.PartitionKeyEquals(parts[0]), cancellationToken).ConfigureAwait(false))
        {
            if (row[DataProperty] is byte[] data)
            {
                chunks[row.RowKey] = data;
            }
        }

        var complete = chunks.Values.Sum(c => (long)c.Length) == length;
        var body = complete ? new byte[length] : [];
        var at = 0;
        foreach (var chunk in chunks.Values.Where(_ => complete))
        {
            chunk.CopyTo(body, at);
            at += chunk.Length;
        }

        if (!complete || !string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), parts[2], StringComparison.Ordinal))
        {
            throw new PermanentIntegrationException(
                $"Message {message.MessageId}: the claim-checked body {parts[0]} is missing or incomplete ({chunks.Count} rows, expected {length} bytes).");
        }

        var properties = message.Properties.Where(p => p.Key != ReferenceProperty).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return message with { Body = body, Properties = properties };
    }

    /// <summary>Deletes stored bodies older than <see cref="Retention"/>; returns how many rows went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var expired = new List<(string Partition, string Row)>();
        var filter = TableFilter.LessThan(StoredAtProperty, _time.GetUtcNow() - Retention);
        await foreach (var row in _tables.QueryAsync(Table, filter, cancellationToken).ConfigureAwait(false))
        {
            expired.Add((row.PartitionKey, row.RowKey));
        }

        var deleted = 0;
        foreach (var (partition, row) in expired)
        {
            if (await _tables.DeleteAsync(Table, partition, row, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }

    private static string RowKey(int index) => "c" + index.ToString("D5", CultureInfo.InvariantCulture);

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_tableReady)
        {
            await _tables.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
            _tableReady = true;
        }
    }
}
