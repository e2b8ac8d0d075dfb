using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// The meter's values on real calls through the DI-built services (ingress, returns handler, ledger, exception
/// service, resilient Fulfil client, reconciliation). The listener only hears this container's meter (its
/// <see cref="IMeterFactory"/> scope), so tests running in parallel do not disturb the counts.
/// </summary>
public sealed class LoopFulfilMetricsTests
{
    [Fact]
    public async Task Counters_and_histograms_record_webhooks_messages_documents_exceptions_mismatches_and_fulfil_calls()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        using var recorded = new Recorded(h.Services.GetRequiredService<IMeterFactory>());

        // Webhooks: one with a wrong signature, one accepted.
        var good = new ReconReturn("#1001", (b, x) => b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1))).InLoop(h.Loop);
        var body = good.CreatedWebhook();
        var rejected = await h.Services.GetRequiredService<WebhookIngress>().HandleAndSendAsync(IngressHarness.Request(body, "bm90LXRoZS1zaWduYXR1cmU="), h.Bus, CancellationToken.None);
        Assert.Equal(401, rejected.StatusCode);
        // Fulfil answers the first call 429: retried by the resilient handler, counted as throttled.
        h.Fulfil.Faults.RateLimitNext(1);
        await h.SendAsync(body);

        // A return with an unknown SKU: a merchandising exception, message completed as ExceptionRaised.
        var unknownSku = new ReconReturn("#1001", (b, x) => b.WithLine("NO-SUCH-SKU", 10.00m, lineItemId: x.Line(1)));
        await h.SendAsync(unknownSku.CreatedWebhook());

        // Reconciliation: a return Loop has and Fulfil lacks.
        new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1))).InLoop(h.Loop);
        await h.ReconcileAsync(ReconciliationMode.Audit);

        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.WebhooksRejectedName, ("reason", "invalid_signature")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.WebhooksReceivedName, ("outcome", "rejected")));
        Assert.Equal(2, recorded.Sum(LoopFulfilMetrics.WebhooksReceivedName, ("outcome", "queued")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.MessagesProcessedName, ("queue", "loop-returns"), ("outcome", "Reconciled")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.MessagesProcessedName, ("queue", "loop-returns"), ("outcome", "ExceptionRaised")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.DocumentsPostedName, ("document_type", "return_order")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.ExceptionsRecordedName, ("ExceptionCategory", "SkuNotFound"), ("Owner", "merchandising")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.ReconciliationMismatchesName, ("ReconciliationMismatch", "MissingReturnOrder"), ("Owner", "operations"), ("mode", "Audit")));
        Assert.Equal(1, recorded.Sum(LoopFulfilMetrics.UpstreamThrottledName, ("client", "Fulfil")));
        Assert.Equal(1, recorded.Count(LoopFulfilMetrics.UpstreamDurationName, ("client", "Fulfil"), ("status_code", 429)));
        var fulfilAnswers = h.Fulfil.Requests.Count;
        Assert.Equal(fulfilAnswers, recorded.Count(LoopFulfilMetrics.UpstreamDurationName, ("client", "Fulfil")));
        Assert.All(recorded.Values(LoopFulfilMetrics.UpstreamDurationName), ms => Assert.True(ms > 0));
    }

    /// <summary>Everything the container's LoopFulfil meter records, with tags.</summary>
    private sealed class Recorded : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public Recorded(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LoopFulfilMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.Start();
        }

        public double Sum(string name, params (string Key, object Value)[] tags) => Matching(name, tags).Sum(m => m.Value);

        public int Count(string name, params (string Key, object Value)[] tags) => Matching(name, tags).Count();

        public IEnumerable<double> Values(string name) => Matching(name, []).Select(m => m.Value);

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, object Value)[] tags) =>
            _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))));
    }
}
