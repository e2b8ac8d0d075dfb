using System.Text;
using LoopFulfil.Core.Messaging;

namespace LoopFulfil.Core.Webhooks;

/// <summary>A Loop webhook delivery as any host sees it, before anything has been read.</summary>
/// <param name="Body">The request body stream; read once, never more than the configured limit + 1 byte.</param>
/// <param name="Signature">The <c>X-Loop-Signature</c> header value, or null when absent.</param>
/// <param name="ContentLength">The declared Content-Length when known (lets an oversize body be refused unread).</param>
public readonly record struct WebhookRequest(Stream Body, string? Signature, long? ContentLength);

/// <summary>What to answer Loop, independent of the HTTP stack.</summary>
public sealed class WebhookResponse
{
    private WebhookResponse(int statusCode, string reason, TimeSpan? retryAfter)
    {
        StatusCode = statusCode;
        Reason = reason;
        RetryAfter = retryAfter;
        // Reasons are fixed codes chosen here, never input or secrets, so plain concatenation is safe JSON.
        Body = Encoding.UTF8.GetBytes(
            statusCode == 202
                ? $"{{\"status\":\"accepted\",\"reason\":\"{reason}\"}}"
                : $"{{\"status\":\"rejected\",\"reason\":\"{reason}\"}}");
    }

    /// <summary>202, 400 or 408 (body broken off by the client), 401, 413 or 503.</summary>
    public int StatusCode { get; }

    /// <summary>Short machine-readable reason (e.g. <c>queued</c>, <c>parked</c>, <c>invalid_signature</c>).</summary>
    public string Reason { get; }

    /// <summary>Set on 503: send as the <c>Retry-After</c> header in whole seconds.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Small JSON body; no secrets, no payload echo.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Media type of <see cref="Body"/>.</summary>
    public const string ContentType = "application/json";

    /// <summary>Retry-After header value (whole seconds), or null.</summary>
    public string? RetryAfterHeaderValue => RetryAfter is { } r ? ((long)Math.Ceiling(r.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    internal static WebhookResponse Queued { get; } = new(202, "queued", null);

    internal static WebhookResponse Parked { get; } = new(202, "parked", null);

    internal static WebhookResponse InvalidSignature { get; } = new(401, "invalid_signature", null);

    internal static WebhookResponse MissingSignature { get; } = new(401, "missing_signature", null);

    internal static WebhookResponse TooLarge { get; } = new(413, "body_too_large", null);

    internal static WebhookResponse Unavailable(string reason, TimeSpan retryAfter) => new(503, reason, retryAfter);

    /// <summary>The request body could not be read to its end (bad framing, too slow, cut off): 400, or the status Kestrel chose.</summary>
    internal static WebhookResponse BodyUnreadable(int statusCode) => new(statusCode, "body_unreadable", null);
}

/// <summary>
/// The outcome of <see cref="WebhookIngress.HandleAsync"/>: the answer to give Loop if the message (when any) is
/// enqueued, and that message. The host must enqueue <see cref="Message"/> before answering 202; when it cannot,
/// it answers <see cref="WebhookIngress.EnqueueFailed"/> instead so Loop retries.
/// </summary>
public readonly record struct WebhookIngressResult(WebhookResponse Response, OutboundMessage? Message);
