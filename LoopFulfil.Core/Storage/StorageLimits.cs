namespace LoopFulfil.Core.Storage;

/// <summary>How large a Loop event body storage keeps whole: the one number the webhook's accept limit comes from.</summary>
public static class StorageLimits
{
    /// <summary>
    /// The largest event body (bytes) the integration stores whole. A return's snapshot and each recorded event sit
    /// on one table row, so an update stays one ETag-checked write: 12 chunks of <see cref="ChunkedBlobStore.MaxChunkBytes"/>
    /// travel as 960,000 base64 characters, under the 1 MB request Azurite accepts for an update. The webhook refuses
    /// longer bodies with 413 (<c>Webhooks:MaxBodyBytes</c> defaults to this and may not exceed it). When bodies move
    /// to Blob storage, raising this one number raises both.
    /// </summary>
    public const int MaxEventBodyBytes = 12 * ChunkedBlobStore.MaxChunkBytes;
}
