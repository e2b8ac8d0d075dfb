namespace LoopFulfil.Core.Storage;

/// <summary>
/// Blob Storage for bodies too large for a table entity or a queue message (raw events, return snapshots,
/// claim-checked messages). Containers are created on first upload; reading from a missing one finds nothing.
/// </summary>
public interface IBlobStore
{
    /// <summary>Writes (or overwrites) <paramref name="name"/> with <paramref name="content"/> and optional metadata.</summary>
    Task UploadAsync(string container, string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    /// <returns>The content, or null when the blob (or its container) is absent.</returns>
    Task<byte[]?> DownloadAsync(string container, string name, CancellationToken cancellationToken);

    /// <returns>False when it was already absent.</returns>
    Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken);

    /// <summary>Blobs whose names start with <paramref name="prefix"/> (null: all), with their metadata.</summary>
    IAsyncEnumerable<StoredBlob> ListAsync(string container, string? prefix, CancellationToken cancellationToken);
}

/// <param name="Metadata">Keys as stored (the service keeps them case-insensitive).</param>
public sealed record StoredBlob(string Name, long Length, IReadOnlyDictionary<string, string> Metadata);
