using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.GoLive;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Exceptions;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// One trigger table: every trigger Loop sends (as the fixture payloads and subscription lists show) has a queue with
/// a handler or an explicit park with an owner, and the ingress does what the table says.
/// </summary>
public sealed class TriggerTableTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>Every <c>trigger</c> value in the test fixtures (webhook payloads, Loop API objects, subscription lists).</summary>
    private static SortedSet<string> FixtureTriggers()
    {
        var triggers = new SortedSet<string>(StringComparer.Ordinal);
        var options = new JsonDocumentOptions { AllowTrailingCommas = true };
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*", SearchOption.AllDirectories))
        {
            if (Path.GetExtension(file) is not (".json" or ".txt"))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(File.ReadAllBytes(file), options);
            }
            catch (JsonException)
            {
                continue;
            }

            using (document)
            {
                Collect(document.RootElement, triggers);
            }
        }

        return triggers;

        static void Collect(JsonElement e, SortedSet<string> into)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    if (p.NameEquals("trigger") && p.Value.ValueKind == JsonValueKind.String)
                    {
                        into.Add(p.Value.GetString()!);
                    }

                    Collect(p.Value, into);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray())
                {
                    Collect(item, into);
                }
            }
        }
    }

    /// <summary>
    /// Where each of Loop's webhook triggers must go, written out (topic and trigger as the fixture payloads carry them;
    /// routes as docs/webhooks-and-exceptions.md items 8 and 10 say): queued on <c>loop-returns</c>, or parked as an
    /// exception record with its owner. Not read from <see cref="TriggerTable"/>, which is what these tests check.
    /// </summary>
    private static readonly (string Topic, string Trigger, string? Queue, string? ParkedOwner)[] Expected =
    [
        ("return", "return.created", "loop-returns", null),
        ("return", "return.updated", "loop-returns", null),
        ("return", "return.closed", "loop-returns", null),
        ("return.processing", "return.processing.failed", "loop-returns", null),
        ("label", "label.created", "loop-returns", null),
        ("label", "label.updated", "loop-returns", null),
        ("label.request", "label.request.issued", "loop-returns", null),
        ("label.request", "label.request.cancelled", "loop-returns", null),
        ("restock", "restock.requested", "loop-returns", null),
        ("giftcard", "giftcard.requested", "loop-returns", null),
        ("happy.returns.shipment", "shipment.processed", null, "operations"),
    ];

    public static TheoryData<string, string, string?, string?> LoopTriggers()
    {
        var data = new TheoryData<string, string, string?, string?>();
        foreach ((var topic, var trigger, var queue, var owner) in Expected)
        {
            data.Add(topic, trigger, queue, owner);
        }

        return data;
    }

    [Fact]
    public void Every_trigger_loop_sends_in_the_fixtures_has_an_expected_route_and_the_table_routes_exactly_those()
    {
        var triggers = FixtureTriggers();

        // The fixtures hold Loop's documented triggers, each with a route written out above; the table knows no other.
        Assert.Equal(new SortedSet<string>(Expected.Select(e => e.Trigger), StringComparer.Ordinal), triggers);
        Assert.Equal(
            Expected.Select(e => (e.Topic, e.Trigger, e.Queue)).Order(),
            TriggerTable.All.Where(r => r.Source == TriggerSource.Loop).Select(r => (r.Topic, r.Trigger, r.Queue)).Order());
        Assert.All(Expected.Where(e => e.Queue is not null), e => Assert.Contains(EntryPoints.Queues, q => q.Queue == e.Queue));
    }

    [Theory]
    [MemberData(nameof(LoopTriggers))]
    public async Task The_ingress_queues_or_parks_each_loop_trigger_where_loop_s_topics_say(string topic, string trigger, string? queue, string? parkedOwner)
    {
        var (ingress, exceptions) = await ParkingIngressAsync();
        var body = Utf8($$"""{"topic":"{{topic}}","trigger":"{{trigger}}","id":"4711","return_id":"4711","created_at":"2026-11-20T09:15:00+00:00"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        if (queue is null)
        {
            Assert.Null(result.Message);
            var record = Assert.Single(await RecordsAsync(exceptions));
            Assert.Equal(parkedOwner, record.Owner);
            Assert.Contains(trigger, record.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.NotNull(result.Message);
            Assert.Equal((queue, trigger, "4711"), (result.Message.Queue, result.Message.Properties["trigger"], result.Message.Properties["returnId"]));
            Assert.Empty(await RecordsAsync(exceptions));
        }
    }

    [Fact]
    public async Task A_signed_webhook_with_one_of_the_integrations_own_triggers_is_parked_not_queued()
    {
        var own = TriggerTable.All.First(r => r.Source == TriggerSource.Integration);
        var (ingress, exceptions) = await ParkingIngressAsync();
        var body = Utf8($$"""{"topic":"{{own.Topic}}","trigger":"{{own.Trigger}}","return_id":"4712"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Null(result.Message);
        Assert.Equal(ExceptionCategory.UnknownTopic, Assert.Single(await RecordsAsync(exceptions)).Category);
    }

    [Fact]
    public void The_go_live_audit_checks_subscriptions_against_the_table()
    {
        Assert.Equal(["return.created", "return.updated", "return.closed"], GoLiveAudit.RequiredTriggers);
        Assert.All(GoLiveAudit.OptionalTriggers, t => Assert.Equal(TriggerSubscription.Optional, TriggerTable.Find(t)!.Subscription));
        Assert.DoesNotContain("shipment.processed", GoLiveAudit.OptionalTriggers);
    }

    private static async Task<(WebhookIngress Ingress, ExceptionService Exceptions)> ParkingIngressAsync()
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var blobs = await Infrastructure.AzuriteTestServer.CreateBlobStoreAsync();
        var ingress = IngressHarness.Create(store, new RecordingMessageSender(), blobs: blobs);
        var exceptions = new ExceptionService(store, blobs, new RecordingMessageSender(), new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ExceptionService>.Instance);
        return (ingress, exceptions);
    }

    private static async Task<List<ExceptionRecord>> RecordsAsync(ExceptionService exceptions)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in exceptions.ListAsync(null, null, Ct))
        {
            records.Add(r);
        }

        return records;
    }
}
