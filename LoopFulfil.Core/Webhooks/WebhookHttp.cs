using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Core.Webhooks;

/// <summary>
/// The HTTP edge of the webhook, shared by both hosts (Functions with ASP.NET Core integration, and the
/// single-machine host's Kestrel), so a delivery is read and answered byte-for-byte the same way on either.
/// </summary>
public static class WebhookHttp
{
    /// <summary>The header Loop signs deliveries in: Base64(HMAC-SHA256(raw body, secret)).</summary>
    public const string SignatureHeader = "X-Loop-Signature";

    /// <summary>The route both hosts serve the webhook on, below their <c>/api</c> prefix.</summary>
    public const string Route = "loop/webhooks";

    /// <summary>Reads nothing: wraps the body stream, the signature header (null when absent) and the declared length.</summary>
    public static WebhookRequest ToWebhookRequest(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Several signature headers join with ',' here, which never decodes as a 32-byte signature: a 401, as it should be.
        string? signature = request.Headers[SignatureHeader];
        return new WebhookRequest(request.Body, string.IsNullOrEmpty(signature) ? null : signature, request.ContentLength);
    }

    /// <summary>Writes <paramref name="response"/>: status, <c>Retry-After</c> on 503, and the small JSON body.</summary>
    public static async Task WriteAsync(WebhookResponse response, HttpResponse http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(http);
        http.StatusCode = response.StatusCode;
        if (response.RetryAfterHeaderValue is { } retryAfter)
        {
            http.Headers.RetryAfter = retryAfter;
        }

        http.ContentType = WebhookResponse.ContentType;
        http.ContentLength = response.Body.Length;
        await http.Body.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
    }
}
