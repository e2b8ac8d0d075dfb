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

    /// <summary>Largest body accepted; anything longer is answered 413 without being read further. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 1_048_576;

    /// <summary>
    /// Retry-After (seconds) sent with 503 when the event could not be stored or enqueued. Loop honours values up
    /// to 30 minutes and fails the webhook above that, so it is capped at 1800.
    /// </summary>
    public int RetryAfterSeconds { get; set; } = 60;
}
