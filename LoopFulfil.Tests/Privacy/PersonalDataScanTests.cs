using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Reconciliation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Tests.Privacy;

/// <summary>
/// Issue #19: no personal data in logs, metrics, exception records (other than the raw event kept for replay),
/// reports or notes and flags written back to Loop. Every return of a scenario set carries recognisable personal
/// values; everything the run wrote is then scanned for them.
/// </summary>
public sealed class PersonalDataScanTests
{
    // Values no code path could produce by accident, so a hit means the customer's data leaked.
    private const string Email = "zeb.quackenbush.7f3a9c@privacy-scan.example";
    private const string FirstName = "Zebulon";
    private const string LastName = "Quackenbushwick";
    private const string Street = "742 Vellichor Terrace";
    private const string Phone = "+1 555 0199 7731";
    private const string City = "Quillhaven";

    private static readonly string[] Personal = [Email, FirstName, LastName, Street, Phone, City, "7f3a9c", "Vellichor", "0199 7731"];

    [Fact]
    public async Task A_scenario_set_with_personal_values_leaves_none_in_logs_metrics_exceptions_reports_or_loop_notes()
    {
        var logs = new CollectingLoggerProvider();
        await using var h = await ReconciliationHarness.StartAsync(
            new Dictionary<string, string?> { ["Exceptions:FlagReturnInLoop"] = "true", ["Reconciliation:SelfHeal"] = "false" },
            logs);
        using var metrics = new MetricTagCollector();

        var returns = new List<ReconReturn>
        {
            new ReconReturn("#1001", (b, x) => Pii(b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1)))), // cash refund
            new ReconReturn("#1003", (b, x) => Pii(b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)).WithGiftCard(12.00m))), // store credit
            new ReconReturn("#1001", (b, x) => Pii(b.WithLine("HOOD/GRY:XL", 79.99m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m).WithRefund(54.99m))), // exchange + refund
            new ReconReturn("#1003", (b, x) => Pii(b.WithLine("NO-SUCH-SKU-PRIV", 30.00m, lineItemId: x.Line(1)))), // unknown SKU
            new ReconReturn("#9999", (b, x) => Pii(b.WithLine("TEE-BLK-L", 25.00m, lineItemId: x.Line(1)))), // unknown order
            new ReconReturn("#1002", (b, x) => Pii(b.WithLine("JEANS-32/32", 50.00m, lineItemId: x.Line(1)).WithRefund(61.00m))), // figures that do not add up
        };

        foreach (var r in returns)
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            r.InLoop(h.Loop, "closed", 120);
            await h.SendAsync(r.ClosedWebhook());
        }

        // A bad body (not JSON) that the ingress parks with its raw bytes: its message must not quote the body.
        await h.PostWebhookAsync(System.Text.Encoding.UTF8.GetBytes($"{{\"topic\":\"return\",\"trigger\":\"return.created\",\"customer\":\"{Email}\",\"id\":"));
        await h.DrainAsync();

        var report = await h.ReconcileAsync();
        var exceptions = await h.ExceptionRecordsAsync();

        // The run must have exercised what it scans: logs, exception records and notes exist.
        Assert.NotEmpty(logs.Lines);
        Assert.Contains(exceptions, e => e.Category == ExceptionCategory.SkuNotFound);
        Assert.True(exceptions.Count >= 3, $"expected exceptions for the unknown SKU, unknown order and bad figures; got {exceptions.Count}");
        Assert.Contains(returns, r => h.Loop.GetNotes(r.ReturnId).Count > 0);

        // The personal values did reach the integration: the unknown SKU's record keeps the event, customer included.
        var service = h.Services.GetRequiredService<ExceptionService>();
        var sku = (await service.GetAsync(exceptions.First(e => e.Category == ExceptionCategory.SkuNotFound).Id, CancellationToken.None))!;
        Assert.Contains(Email, System.Text.Encoding.UTF8.GetString(sku.RawEvent.Span), StringComparison.Ordinal);

        var written = new List<(string Where, string Text)>();
        written.AddRange(logs.Lines.Select(l => ("log", l)));
        written.AddRange(metrics.Tags.Select(t => ("metric tag", t)));
        foreach (var e in exceptions)
        {
            // The raw event is the customer's own payload, kept only for replay (retention and erasure: docs/privacy.md).
            written.Add(($"exception {e.Id}", string.Join(" | ", e.Message, e.Source, e.DetailKey, e.ReturnId, e.Owner, string.Join(",", e.Skus))));
        }

        written.Add(("report html", h.Reports.RenderHtml(report)));
        written.Add(("report csv", ReconciliationReports.RenderCsv(report)));
        foreach (var r in returns)
        {
            written.AddRange(h.Loop.GetNotes(r.ReturnId).Select(n => ($"loop note {r.ReturnId}", n)));
        }

        var leaks = (from w in written
                     from p in Personal
                     where w.Text.Contains(p, StringComparison.OrdinalIgnoreCase)
                     select $"{w.Where}: contains '{p}': {Excerpt(w.Text, p)}").Distinct().ToList();
        Assert.True(leaks.Count == 0, "Personal data written:\n" + string.Join("\n", leaks.Take(20)));
    }

    private static LoopReturnBuilder Pii(LoopReturnBuilder b) => new PersonalValues(Email, FirstName, LastName, Street, Phone, City).On(b);

    private static string Excerpt(string text, string value)
    {
        var at = text.IndexOf(value, StringComparison.OrdinalIgnoreCase);
        var start = Math.Max(0, at - 60);
        return text.Substring(start, Math.Min(text.Length - start, value.Length + 120)).ReplaceLineEndings(" ");
    }

    /// <summary>Every log line at every level: message, structured values, scopes and exception text.</summary>
    private sealed class CollectingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CollectingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var parts = new List<string> { formatter(state, exception) };
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    parts.AddRange(values.Select(v => $"{v.Key}={v.Value}"));
                }

                owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), parts);
                if (exception is not null)
                {
                    parts.Add(exception.ToString());
                }

                owner._lines.Enqueue($"{logLevel} {eventId.Id}: {string.Join(" | ", parts)}");
            }
        }
    }

    /// <summary>Every tag value of every LoopFulfil instrument measured while it listens.</summary>
    private sealed class MetricTagCollector : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<string> _tags = new();

        public MetricTagCollector()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LoopFulfilMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Record(tags));
            _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Record(tags));
            _listener.SetMeasurementEventCallback<int>((_, _, tags, _) => Record(tags));
            _listener.Start();
        }

        public IReadOnlyCollection<string> Tags => _tags;

        public void Dispose() => _listener.Dispose();

        private void Record(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                _tags.Enqueue($"{tag.Key}={tag.Value}");
            }
        }
    }
}
