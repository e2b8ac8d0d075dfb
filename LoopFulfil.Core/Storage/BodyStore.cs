using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// The one place a body (raw event, return snapshot) is kept with a table entity: small bodies inline in one binary
/// property, larger ones in Blob storage with the entity pointing at the blob. Properties on the entity, for a
/// <c>prefix</c> such as <c>Body</c>: <c>{prefix}</c> (inline bytes, empty when in a blob), <c>{prefix}Blob</c>
/// (blob name, empty when inline), <c>{prefix}Length</c>, <c>{prefix}Sha256</c>. Both location properties are always
/// written, so a Merge update never leaves a stale one behind.
/// </summary>
/// <remarks>
/// Each blob write gets a new name, uploaded before the entity that points at it is written: the entity's ETag-checked
/// write stays the single switch from one body to the next, a reader never sees half a body, and nobody else ever
/// writes a name already in use. The writer deletes the blob it replaced (<see cref="ReleaseAsync"/>) or the one it
/// wrote but could not use (<see cref="DiscardAsync"/>).
/// </remarks>
public sealed class BodyStore
{
    /// <summary>Container holding the bodies of all tables (blob names start with the table).</summary>
    public const string Container = "bodies";

    /// <summary>Largest body kept inline: well under the 64 KiB binary property and the 1 MiB entity.</summary>
    public const int InlineMaxBytes = 32 * 1024;

    private readonly IBlobStore _blobs;

    public BodyStore(IBlobStore blobs) => _blobs = blobs ?? throw new ArgumentNullException(nameof(blobs));

    /// <summary>Hex SHA-256, as stored in <c>{prefix}Sha256</c>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>The blob <paramref name="head"/> points at, or null when its body is inline or absent.</summary>
    public static string? BlobOf(TableEntity head, string prefix)
    {
        ArgumentNullException.ThrowIfNull(head);
        return head.GetString(prefix + "Blob") is { Length: > 0 } name ? name : null;
    }

    /// <summary>Puts <paramref name="body"/> on <paramref name="head"/>, uploading it first when it is too large to be inline.</summary>
    public async Task WriteAsync(string table, TableEntity head, string prefix, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var blob = "";
        if (body.Length > InlineMaxBytes)
        {
            blob = NewBlobName(table, head);
            await _blobs.UploadAsync(Container, blob, body, null, cancellationToken).ConfigureAwait(false);
        }

        head[prefix] = blob.Length == 0 ? body.ToArray() : Array.Empty<byte>();
        head[prefix + "Blob"] = blob;
        head[prefix + "Length"] = body.Length;
        head[prefix + "Sha256"] = Sha256Hex(body.Span);
    }

    /// <summary>
    /// The body on <paramref name="head"/>: empty when none was written; null when its blob is gone or does not match
    /// the recorded length and hash (the entity was replaced meanwhile: read it again).
    /// </summary>
    public async Task<byte[]?> ReadAsync(TableEntity head, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (head.GetInt32(prefix + "Length") is not { } length || length == 0)
        {
            return [];
        }

        var body = BlobOf(head, prefix) is { } blob
            ? await _blobs.DownloadAsync(Container, blob, cancellationToken).ConfigureAwait(false)
            : head[prefix] as byte[];
        var sha = head.GetString(prefix + "Sha256");
        return body is not null && body.Length == length && (sha is null || Sha256Hex(body) == sha) ? body : null;
    }

    /// <summary>After <paramref name="current"/> was written: deletes <paramref name="previousBlob"/> unless it still points there.</summary>
    public async Task ReleaseAsync(string? previousBlob, TableEntity current, string prefix, CancellationToken cancellationToken)
    {
        if (previousBlob is not null && !string.Equals(previousBlob, BlobOf(current, prefix), StringComparison.Ordinal))
        {
            await _blobs.DeleteAsync(Container, previousBlob, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After a write of <paramref name="head"/> was refused (ETag or insert conflict): deletes the blob written for it,
    /// unless the stored row points at it. The storage client retries writes, so a write that committed but lost its
    /// answer comes back refused by its own retry; deleting then would leave the committed row pointing at nothing.
    /// </summary>
    public async Task DiscardAsync(ITableStore store, string table, TableEntity head, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (BlobOf(head, prefix) is not { } blob)
        {
            return;
        }

        var stored = await store.GetAsync(table, head.PartitionKey, head.RowKey, cancellationToken).ConfigureAwait(false);
        if (stored is null || !string.Equals(BlobOf(stored, prefix), blob, StringComparison.Ordinal))
        {
            await _blobs.DeleteAsync(Container, blob, cancellationToken).ConfigureAwait(false);
        }
    }

    // Keys are hashed: raw keys may hold characters, dot segments or lengths a blob name cannot.
    private static string NewBlobName(string table, TableEntity head) => string.Create(CultureInfo.InvariantCulture,
        $"{table}/{Sha256Hex(Encoding.UTF8.GetBytes(head.PartitionKey + "\n" + head.RowKey))[..32]}/{Guid.NewGuid():N}");
}
