namespace LoopFulfil.Core.Storage;

/// <summary>How large a Loop event body storage keeps whole: the one number the webhook's accept limit comes from.</summary>
public static class StorageLimits
{
    /// <summary>
    /// The largest event body (bytes) the integration stores whole. Bodies over <see cref="BodyStore.InlineMaxBytes"/>
    /// live in Blob storage (a return's snapshot, an exception's raw event, a claim-checked message), tested at this
    /// size against Azurite. The webhook refuses longer bodies with 413 (<c>Webhooks:MaxBodyBytes</c> defaults to this and
    /// may not exceed it), so an accepted body can always be stored. Loop's own bodies stay far below it.
    /// </summary>
    public const int MaxEventBodyBytes = 4 * 1024 * 1024;
}
