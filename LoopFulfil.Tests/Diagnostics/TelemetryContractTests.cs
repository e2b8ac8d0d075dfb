using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Telemetry;
using LoopFulfil.Tests.Deployment;
using LoopFulfil.Tests.Reconciliation;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;

namespace LoopFulfil.Tests.Diagnostics;

/// <summary>
/// The alert rules' queries (read from the ARM JSON the real Bicep compiler made) against what the worker's telemetry
/// pipeline exports in a real scenario: the Functions app's OpenTelemetry configuration (<see cref="FunctionsTelemetry"/>)
/// with an in-memory exporter in place of Azure Monitor. Every metric name, dimension and filtered value a query
/// reads must be exported, or the alert could never fire.
/// </summary>
public sealed partial class TelemetryContractTests
{
    [Fact]
    public async Task Every_alert_query_reads_only_metric_names_dimensions_and_values_the_worker_exports()
    {
        var queries = AlertQueries();
        var exported = await RunScenarioAsync();

        Assert.Equal(4, queries.Count);
        foreach (var query in queries)
        {
            // Only the metrics table: traces are sampled by the host and may be dropped by the exporter.
            Assert.StartsWith("customMetrics", query.TrimStart(), StringComparison.Ordinal);
            var metric = Assert.Single(MetricName().Matches(query)).Groups["name"].Value;
            Assert.True(exported.Metrics.ContainsKey(metric), $"No metric {metric} was exported; the query:\n{query}");
            var points = exported.Metrics[metric];

            var aliases = Alias().Matches(query).ToDictionary(m => m.Groups["alias"].Value, m => m.Groups["dimension"].Value);
            foreach (var dimension in Dimension().Matches(query).Select(m => m.Groups["dimension"].Value))
            {
                Assert.True(points.Any(p => p.ContainsKey(dimension)), $"{metric} is exported without a {dimension} dimension; the query:\n{query}");
            }

            foreach (Match filter in Filter().Matches(query))
            {
                var alias = filter.Groups["alias"].Value;
                if (alias == "name")
                {
                    // The metric itself, checked above.
                    continue;
                }

                Assert.True(aliases.TryGetValue(alias, out var dimension), $"The query filters on {alias}, which is neither name nor extended from customDimensions:\n{query}");
                foreach (var value in QuotedValue().Matches(filter.Groups["values"].Value).Select(m => m.Groups["value"].Value))
                {
                    Assert.True(
                        points.Any(p => p.TryGetValue(dimension, out var v) && v == value),
                        $"{metric} never carried {dimension} = {value} in the scenario; the query:\n{query}");
                }
            }

            foreach (Match by in SplitBy().Matches(query))
            {
                Assert.True(aliases.ContainsKey(by.Groups["alias"].Value), $"The query splits by {by.Groups["alias"].Value}, which it never extends from customDimensions.");
            }
        }
    }

    [Fact]
    public async Task Exception_records_are_exported_as_logs_with_their_category_as_a_dimension_and_framework_chatter_is_not()
    {
        var exported = await RunScenarioAsync();

        var raised = Assert.Single(exported.Logs, l => l.EventId == 4101 && l.Attributes.GetValueOrDefault("ExceptionCategory") == nameof(ExceptionCategory.ExchangeOrderFailed));
        Assert.StartsWith(LoopFulfilTelemetry.LogCategoryPrefix, raised.Category, StringComparison.Ordinal);
        Assert.Contains(nameof(ExceptionCategory.ExchangeOrderFailed), raised.Message, StringComparison.Ordinal);
        Assert.Contains(exported.Logs, l => l.EventId == 4802 && l.Attributes.ContainsKey("ReconciliationMismatch"));
        Assert.DoesNotContain(exported.Logs, l => !l.Category.StartsWith(LoopFulfilTelemetry.LogCategoryPrefix, StringComparison.Ordinal) && l.Level < LogLevel.Warning);
    }

    [Fact]
    public void The_exporter_authenticates_with_the_user_assigned_identity_named_by_azure_client_id()
    {
        var options = new AzureMonitorExporterOptions();
        const string ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/";

        FunctionsTelemetry.ConfigureExporter(options, ConnectionString, FunctionsTelemetry.CreateCredential("6a1f0c3e-0000-4000-8000-000000000001"));

        Assert.Equal(ConnectionString, options.ConnectionString);
        Assert.IsType<ManagedIdentityCredential>(options.Credential);
        Assert.False(options.EnableTraceBasedLogsSampler);
        Assert.IsType<DefaultAzureCredential>(FunctionsTelemetry.CreateCredential(null));
    }

    /// <summary>The scheduled-query alert rules' KQL, as the compiled template deploys it.</summary>
    private static List<string> AlertQueries()
    {
        var root = ArmTemplate.Load(new Dictionary<string, string>()).Root;
        var queries = new List<string>();
        Collect(root, queries);
        return queries;

        static void Collect(JsonNode? node, List<string> found)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        // The rules' own "query" is an expression indexing the variable that holds the literals read here.
                        if (key == "query" && value?.GetValueKind() == System.Text.Json.JsonValueKind.String && !((string)value!).StartsWith('['))
                        {
                            found.Add((string)value!);
                        }
                        else
                        {
                            Collect(value, found);
                        }
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Collect(item, found);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Webhooks with a missing and a wrong signature, a return with an unknown SKU, an exchange order Fulfil refused and
    /// an audit that finds a return missing in Fulfil, through the DI-built services on Azurite and the sandboxes.
    /// </summary>
    private static async Task<Exported> RunScenarioAsync()
    {
        var logs = new ConcurrentQueue<ExportedLog>();
        using var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddOpenTelemetry(o =>
            {
                FunctionsTelemetry.ConfigureLogs(o);
                o.AddProcessor(new LogCapture(logs));
            });
            FunctionsTelemetry.ConfigureLogFilters(logging);
        });
        var metrics = new List<MetricSnapshot>();
        // The Functions app's meter selection under test, with an in-memory exporter in place of Azure Monitor.
        var meterBuilder = Sdk.CreateMeterProviderBuilder();
        FunctionsTelemetry.ConfigureMetrics(meterBuilder);
        using var meters = meterBuilder.AddInMemoryExporter(metrics).Build();

        await using (var h = await ReconciliationHarness.StartAsync(logs: new FactoryProvider(loggerFactory)))
        {
            var good = new ReconReturn("#1001", (b, x) => b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1))).InLoop(h.Loop);
            var body = good.CreatedWebhook();
            var ingress = h.Services.GetRequiredService<WebhookIngress>();
            Assert.Equal(401, (await ingress.HandleAndSendAsync(IngressHarness.Request(body, null), h.Bus, CancellationToken.None)).StatusCode);
            Assert.Equal(401, (await ingress.HandleAndSendAsync(IngressHarness.Request(body, "bm90LXRoZS1zaWduYXR1cmU="), h.Bus, CancellationToken.None)).StatusCode);
            await h.SendAsync(body);

            await h.SendAsync(new ReconReturn("#1001", (b, x) => b.WithLine("NO-SUCH-SKU", 10.00m, lineItemId: x.Line(1))).CreatedWebhook());
            await h.Services.GetRequiredService<ExceptionService>().RaiseAsync(
                new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "88001", "Fulfil refused the exchange order.") { Source = "exchange-orders" },
                CancellationToken.None);

            new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1))).InLoop(h.Loop);
            await h.ReconcileAsync(ReconciliationMode.Audit);

            // Collect while the container's meter still exists.
            Assert.True(meters.ForceFlush());
        }

        loggerFactory.Dispose();
        return new Exported(Points(metrics), [.. logs]);
    }

    private static Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string>>> Points(IEnumerable<MetricSnapshot> snapshots)
    {
        var byName = new Dictionary<string, List<IReadOnlyDictionary<string, string>>>(StringComparer.Ordinal);
        foreach (var snapshot in snapshots)
        {
            var points = byName.TryGetValue(snapshot.Name, out var existing) ? existing : byName[snapshot.Name] = [];
            foreach (var point in snapshot.MetricPoints)
            {
                var tags = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
                }

                points.Add(tags);
            }
        }

        return byName.ToDictionary(p => p.Key, p => (IReadOnlyList<IReadOnlyDictionary<string, string>>)p.Value, StringComparer.Ordinal);
    }

    [GeneratedRegex(@"\bname\s*==\s*""(?<name>[^""]+)""")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"extend\s+(?<alias>\w+)\s*=\s*tostring\(\s*customDimensions\.(?<dimension>\w+)\s*\)")]
    private static partial Regex Alias();

    [GeneratedRegex(@"customDimensions(?:\.(?<dimension>\w+)|\[""(?<dimension>[^""]+)""\])")]
    private static partial Regex Dimension();

    [GeneratedRegex(@"where\s+(?<alias>\w+)\s+(?:==\s*(?<values>""[^""]*"")|in\s*\((?<values>[^)]*)\))")]
    private static partial Regex Filter();

    [GeneratedRegex(@"""(?<value>[^""]*)""")]
    private static partial Regex QuotedValue();

    [GeneratedRegex(@"summarize[^\n]*\bby\s+(?<alias>\w+)")]
    private static partial Regex SplitBy();

    private sealed record Exported(IReadOnlyDictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string>>> Metrics, IReadOnlyList<ExportedLog> Logs);

    private sealed record ExportedLog(string Category, LogLevel Level, int EventId, string Message, IReadOnlyDictionary<string, string?> Attributes);

    /// <summary>Copies each exported log record at once (the SDK reuses the instances).</summary>
    private sealed class LogCapture(ConcurrentQueue<ExportedLog> sink) : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord data)
        {
            var attributes = (data.Attributes ?? []).ToDictionary(a => a.Key, a => Convert.ToString(a.Value, System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);
            sink.Enqueue(new ExportedLog(data.CategoryName ?? string.Empty, data.LogLevel, data.EventId.Id, data.FormattedMessage ?? string.Empty, attributes));
        }
    }

    /// <summary>The harness takes one provider; this hands it the factory that carries the OpenTelemetry provider and its filters.</summary>
    private sealed class FactoryProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
