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

    public static TheoryData<string> LoopTriggers() => [.. TriggerTable.All.Where(r => r.Source == TriggerSource.Loop).Select(r => r.Trigger)];

    [Fact]
    public void Every_trigger_loop_sends_in_the_fixtures_has_a_queue_with_a_handler_or_a_park_with_an_owner()
    {
        var triggers = FixtureTriggers();
        var owners = new ExceptionOptions().Owners;

        // The fixtures hold Loop's documented triggers: the three return triggers at least, and one that is parked.
        Assert.Superset(new SortedSet<string>(StringComparer.Ordinal) { "return.created", "return.updated", "return.closed", "shipment.processed" }, triggers);
        Assert.All(triggers, trigger =>
        {
            var route = TriggerTable.Find(trigger);
            Assert.True(route is { Source: TriggerSource.Loop }, $"'{trigger}' is not in the trigger table as a Loop trigger");
            if (route.IsParked)
            {
                Assert.True(route.ParkedAs is { } category && owners.TryGetValue(category, out var owner) && owner.Length > 0, $"parked trigger '{trigger}' has no owner");
            }
            else
            {
                Assert.Contains(EntryPoints.Queues, q => q.Queue == route.Queue);
            }
        });
    }

    [Theory]
    [MemberData(nameof(LoopTriggers))]
    public async Task The_ingress_queues_or_parks_each_loop_trigger_as_the_table_says(string trigger)
    {
        var route = TriggerTable.Find(trigger)!;
        var (ingress, exceptions) = await ParkingIngressAsync();
        var body = Utf8($$"""{"topic":"{{route.Topic}}","trigger":"{{trigger}}","id":"4711","return_id":"4711","created_at":"2026-11-20T09:15:00+00:00"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        if (route.IsParked)
        {
            Assert.Null(result.Message);
            var record = Assert.Single(await RecordsAsync(exceptions));
            Assert.Equal((route.ParkedAs, new ExceptionOptions().OwnerOf(route.ParkedAs!.Value)), (record.Category, record.Owner));
            Assert.Contains(trigger, record.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.NotNull(result.Message);
            Assert.Equal((route.Queue, trigger, "4711"), (result.Message.Queue, result.Message.Properties["trigger"], result.Message.Properties["returnId"]));
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
