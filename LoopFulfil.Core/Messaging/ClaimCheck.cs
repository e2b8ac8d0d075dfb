using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Messaging;

/// <summary>
/// Claim-check for message bodies too large for the transport: the body is stored in Table Storage and the message
/// carries only a reference to it, in the <see cref="ReferenceProperty"/> application property. Both hosts use it: the
/// single-machine queue (Loop webhooks may reach 1 MiB, a queue envelope 48 KiB) and the Functions host's Service Bus
/// sender (Standard refuses messages over 256 KB). Handlers never see the difference (<see cref="ResolveAsync"/> runs
/// before them).
/// </summary>
/// <remarks>
/// Rows (<see cref="ChunkedBlobStore"/> partition layout): partition = claim id, rows <c>c00000</c>, <c>c00001</c>…
/// with up to <see cref="ChunkBytes"/> each in a <c>Data</c> property, written in batches before the message is sent.
/// Rows are not deleted when the message completes (a redelivery after a lost delete still needs them);
/// <see cref="PruneAsync"/> removes them after <see cref="Retention"/>, longer than a queue message lives (7 days).
/// </remarks>
public sealed class ClaimCheck
{
    /// <summary>Table holding stored bodies.</summary>
    public const string Table = "claimcheck";

    /// <summary>Message property naming the stored body: <c>{claim id}:{length}:{sha256 hex}</c>.</summary>
    public const string ReferenceProperty = "LoopFulfil-ClaimCheck";

    /// <summary>Bytes per row.</summary>
    public const int ChunkBytes = ChunkedBlobStore.MaxChunkBytes;

    /// <summary>How long stored bodies are kept: beyond the queue message time-to-live of 7 days.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    private const string StoredAtProperty = "StoredAt";

    private readonly ITableStore _tables;
    private readonly ChunkedBlobStore _blobs;
    private readonly TimeProvider _time;
    private volatile bool _tableReady;

    public ClaimCheck(ITableStore tables, TimeProvider time)
    {
        _tables = tables;
        _blobs = new ChunkedBlobStore(tables);
        _time = time;
    }

    /// <summary>Stores <paramref name="body"/> under <paramref name="claimId"/>; returns the reference to put on the message.</summary>
    public async Task<string> StoreAsync(string claimId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimId);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var stamp = new Dictionary<string, object?>(StringComparer.Ordinal) { [StoredAtProperty] = _time.GetUtcNow() };
        await _blobs.WritePartitionAsync(Table, claimId, body, RowKey, stamp, cancellationToken).ConfigureAwait(false);
        return Reference(claimId, body.Span);
    }

    /// <summary>The reference <see cref="StoreAsync"/> returns for this body (computed without storing).</summary>
    public static string Reference(string claimId, ReadOnlySpan<byte> body) =>
        string.Create(CultureInfo.InvariantCulture, $"{claimId}:{body.Length}:{ChunkedBlobStore.Sha256Hex(body)}");

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
        var (body, rows) = await _blobs.ReadPartitionAsync(Table, parts[0], cancellationToken).ConfigureAwait(false);
        if (body.Length != length || !string.Equals(ChunkedBlobStore.Sha256Hex(body), parts[2], StringComparison.Ordinal))
        {
            throw new PermanentIntegrationException(
                $"Message {message.MessageId}: the claim-checked body {parts[0]} is missing or incomplete ({rows} rows, expected {length} bytes).");
        }

        var properties = message.Properties.Where(p => p.Key != ReferenceProperty).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return message with { Body = body, Properties = properties };
    }

    /// <summary>Deletes stored bodies older than <see cref="Retention"/>; returns how many rows went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var expired = new HashSet<string>(StringComparer.Ordinal);
        var filter = TableFilter.LessThan(StoredAtProperty, _time.GetUtcNow() - Retention);
        await foreach (var row in _tables.QueryAsync(Table, filter, cancellationToken).ConfigureAwait(false))
        {
            expired.Add(row.PartitionKey);
        }

        var deleted = 0;
        foreach (var claimId in expired)
        {
            deleted += await _blobs.DeletePartitionAsync(Table, claimId, cancellationToken).ConfigureAwait(false);
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
