using System.Globalization;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Inspection;

/// <summary>What to answer the warehouse, independent of the HTTP stack (both hosts write it the same way).</summary>
/// <param name="StatusCode">202 (stored and enqueued), 400 (not a valid inspection) or 503 (could not be stored or enqueued: retry).</param>
/// <param name="Receipt">On 202: what was stored.</param>
/// <param name="Error">On 400 and 503: why, for the sender (never input echoed beyond the parser's message).</param>
/// <param name="RetryAfter">On 503: when to try again (the webhook ingress's <c>Webhooks:RetryAfterSeconds</c>).</param>
public sealed record InspectionResponse(int StatusCode, InspectionReceipt? Receipt, string? Error, TimeSpan? RetryAfter)
{
    /// <summary>Retry-After header value (whole seconds), or null.</summary>
    public string? RetryAfterHeaderValue => RetryAfter is { } r ? ((long)Math.Ceiling(r.TotalSeconds)).ToString(CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// The HTTP edge of <c>POST /api/returns/{id}/inspection</c> for both hosts: reads the body, calls
/// <see cref="InspectionService.SubmitAsync"/>, and maps the outcome with the webhook ingress's rule: a submission that
/// could not be stored or enqueued (storage down, a send still pending after a host was killed mid-send) is a 503 with
/// Retry-After, so the warehouse retries; only an invalid inspection is refused (400).
/// </summary>
public sealed partial class InspectionIngress
{
    private readonly InspectionService _inspections;
    private readonly IOptionsMonitor<WebhookOptions> _webhookOptions;
    private readonly ILogger<InspectionIngress> _logger;

    public InspectionIngress(InspectionService inspections, IOptionsMonitor<WebhookOptions> webhookOptions, ILogger<InspectionIngress> logger)
    {
        _inspections = inspections;
        _webhookOptions = webhookOptions;
        _logger = logger;
    }

    public async Task<InspectionResponse> SubmitAsync(string returnId, Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            var lines = await InspectionRequest.ReadLinesAsync(body, cancellationToken).ConfigureAwait(false);
            var receipt = await _inspections.SubmitAsync(returnId, lines, cancellationToken).ConfigureAwait(false);
            return new InspectionResponse(202, receipt, null, null);
        }
        catch (InvalidInspectionException ex)
        {
            return new InspectionResponse(400, null, ex.Message, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // As the webhook ingress: whatever stopped the store or the enqueue, the sender keeps the inspection and retries.
            LogSubmitFailed(_logger, ex, returnId);
            return new InspectionResponse(503, null, "The inspection could not be stored or enqueued; retry later.", _webhookOptions.CurrentValue.RetryAfter);
        }
    }

    [LoggerMessage(EventId = 4602, Level = LogLevel.Error, Message = "Inspection of return {ReturnId} could not be stored or enqueued; answering 503 so the sender retries")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception, string returnId);
}
