using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Settings of the Loop webhook endpoint (configuration section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>The webhook secret shown on Loop's Developer Tools page; the HMAC key (its UTF-8 bytes).</summary>
    public string Secret { get; set; } = string.Empty;

    /// <summary>
    /// Optional second accepted secret, so a secret can be rotated without rejecting deliveries that were signed
    /// (or are being retried) with the other one. Leave empty outside a rotation.
    /// </summary>
    public string SecondarySecret { get; set; } = string.Empty;

    /// <summary>
    /// Largest body accepted; anything longer is answered 413 (and, when its signature verifies, leaves an
    /// <c>EventTooLarge</c> exception record). Defaults to, and may not exceed, what storage keeps whole
    /// (<see cref="StorageLimits.MaxEventBodyBytes"/>, 4 MiB): an accepted body can always be stored.
    /// </summary>
    public int MaxBodyBytes { get; set; } = StorageLimits.MaxEventBodyBytes;

    /// <summary>
    /// Retry-After (seconds) sent with 503 when the event could not be stored or enqueued. Loop honours values up
    /// to 30 minutes and fails the webhook above that, so it is capped at 1800.
    /// </summary>
    public int RetryAfterSeconds { get; set; } = 60;

    /// <summary><see cref="RetryAfterSeconds"/> within Loop's bounds (1–1800 s): what every ingress sends with its 503.</summary>
    internal TimeSpan RetryAfter => TimeSpan.FromSeconds(Math.Clamp(RetryAfterSeconds, 1, 1800));

    /// <summary>
    /// How long a delivery may wait on storage (enqueue, or parking an exception record) before it is answered 503
    /// + Retry-After instead: Loop expects an answer within seconds, and a storage call that never answers must not
    /// hold the request (the storage client alone gives up only after 30 s per try). 1–60, default 10.
    /// </summary>
    public int StorageTimeoutSeconds { get; set; } = 10;
}
