using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Diagnostics;

/// <summary>
/// The integration's metrics on meter <c>LoopFulfil</c> (<see cref="System.Diagnostics.Metrics"/>; exported by whatever
/// listener the host adds, e.g. OpenTelemetry → Application Insights <c>customMetrics</c>). Instrument names and tag
/// keys are a contract with <c>infra/modules/alerts.bicep</c>: tag keys equal the structured-log property names the
/// alert queries read from traces (<c>ExceptionCategory</c>, <c>ReconciliationMismatch</c>), so one query matches both.
/// </summary>
/// <remarks>
/// Resolved from DI (built on <see cref="IMeterFactory"/>, so a test's listener sees only its own container); call sites
/// built without DI fall back to <see cref="Shared"/>. Tag values are bounded sets (reasons, outcomes, categories,
/// client names, status codes), never ids.
/// </remarks>
public sealed class LoopFulfilMetrics
{
    public const string MeterName = "LoopFulfil";

    public const string WebhooksReceivedName = "loopfulfil.webhooks.received";
    public const string WebhooksRejectedName = "loopfulfil.webhooks.rejected";
    public const string MessagesProcessedName = "loopfulfil.messages.processed";
    public const string DocumentsPostedName = "loopfulfil.documents.posted";
    public const string ExceptionsRecordedName = "loopfulfil.exceptions.recorded";
    public const string ReconciliationMismatchesName = "loopfulfil.reconciliation.mismatches";
    public const string UpstreamDurationName = "loopfulfil.upstream.duration";
    public const string UpstreamThrottledName = "loopfulfil.upstream.throttled";

    private static readonly Lazy<LoopFulfilMetrics> SharedInstance = new(() => new LoopFulfilMetrics(new Meter(MeterName)));

    private readonly Counter<long> _webhooksReceived;
    private readonly Counter<long> _webhooksRejected;
    private readonly Counter<long> _messagesProcessed;
    private readonly Counter<long> _documentsPosted;
    private readonly Counter<long> _exceptionsRecorded;
    private readonly Counter<long> _reconciliationMismatches;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamThrottled;

    public LoopFulfilMetrics(IMeterFactory meterFactory)
        : this((meterFactory ?? throw new ArgumentNullException(nameof(meterFactory))).Create(MeterName))
    {
    }

    private LoopFulfilMetrics(Meter meter)
    {
        Meter = meter;
        _webhooksReceived = meter.CreateCounter<long>(WebhooksReceivedName, "{webhook}", "Loop webhook deliveries received, by outcome (queued, parked, rejected, unavailable).");
        _webhooksRejected = meter.CreateCounter<long>(WebhooksRejectedName, "{webhook}", "Loop webhook deliveries refused, by reason (missing_signature, invalid_signature, declared_length, body_length, body_unreadable, storage_unavailable, not_configured).");
        _messagesProcessed = meter.CreateCounter<long>(MessagesProcessedName, "{message}", "Queue messages handled, by queue and outcome.");
        _documentsPosted = meter.CreateCounter<long>(DocumentsPostedName, "{document}", "Fulfil documents created by LoopFulfil, by document type.");
        _exceptionsRecorded = meter.CreateCounter<long>(ExceptionsRecordedName, "{exception}", "Exception records raised (first raise and repeats), by ExceptionCategory and Owner.");
        _reconciliationMismatches = meter.CreateCounter<long>(ReconciliationMismatchesName, "{mismatch}", "Differences reconciliation found between Loop, Fulfil and the ledger, by ReconciliationMismatch kind and Owner.");
        _upstreamDuration = meter.CreateHistogram<double>(UpstreamDurationName, "ms", "Duration of each HTTP attempt to Loop or Fulfil, by client and status code.");
        _upstreamThrottled = meter.CreateCounter<long>(UpstreamThrottledName, "{response}", "429 Too Many Requests answers from Loop or Fulfil, by client.");
    }

    /// <summary>For call sites constructed without DI (CLI tools, tests that new a class up).</summary>
    public static LoopFulfilMetrics Shared => SharedInstance.Value;

    public Meter Meter { get; }

    public void WebhookReceived(string outcome) => _webhooksReceived.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void WebhookRejected(string reason) => _webhooksRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void MessageProcessed(string queue, string outcome) =>
        _messagesProcessed.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("outcome", outcome));

    public void DocumentPosted(string documentType) => _documentsPosted.Add(1, new KeyValuePair<string, object?>("document_type", documentType));

    public void ExceptionRecorded(string category, string owner) =>
        _exceptionsRecorded.Add(1, new KeyValuePair<string, object?>("ExceptionCategory", category), new KeyValuePair<string, object?>("Owner", owner));

    public void ReconciliationMismatch(string kind, string owner, string mode) =>
        _reconciliationMismatches.Add(
            1,
            new KeyValuePair<string, object?>("ReconciliationMismatch", kind),
            new KeyValuePair<string, object?>("Owner", owner),
            new KeyValuePair<string, object?>("mode", mode));

    /// <param name="statusCode">0 when no response arrived (timeout, connection failure).</param>
    public void UpstreamAttempt(string client, int statusCode, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { "client", client },
            { "status_code", statusCode },
        };
        _upstreamDuration.Record(elapsed.TotalMilliseconds, tags);
        if (statusCode == 429)
        {
            _upstreamThrottled.Add(1, new KeyValuePair<string, object?>("client", client));
        }
    }

    /// <summary>
    /// Maps a ledger step that created a Fulfil document to its document type; null for steps that create nothing
    /// remote (original-sale lookup, queue hand-offs, Loop write-backs).
    /// </summary>
    public static string? DocumentTypeOfStep(string step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step switch
        {
            "return-order" => "return_order",
            "posting:CN" => "credit_note",
            _ when step.StartsWith("posting:", StringComparison.Ordinal) => "journal_entry",
            _ when step.StartsWith("restock:", StringComparison.Ordinal) => "internal_shipment",
            _ when step.StartsWith("exchange-order:", StringComparison.Ordinal) => "exchange_order",
            _ => null,
        };
    }
}

public static class DiagnosticsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LoopFulfilMetrics"/> on the host's <see cref="IMeterFactory"/> (adds the metrics services
    /// when absent). The instrumented classes take it as an optional dependency and use <see cref="LoopFulfilMetrics.Shared"/>
    /// without it, so this is safe to call from any feature and from the composition root.
    /// </summary>
    public static IServiceCollection AddLoopFulfilDiagnostics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.TryAddSingleton<LoopFulfilMetrics>();
        return services;
    }
}
