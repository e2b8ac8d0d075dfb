using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The handler takes trigger, return id and event time from what the ingress put in the message, and reads the body
/// with the same envelope reader only for messages queued without them — such as those in flight during an upgrade.
/// Signed webhooks through the ingress, the handler from DI, the ledger in Azurite, the Fulfil sandbox over HTTP.
/// </summary>
public sealed class InFlightMessageTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task A_webhook_body_is_read_by_the_envelope_reader_once_between_http_and_fulfil()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        var reads = EnvelopeReads.Start();

        var deliveries = await h.SendAsync(r.Webhook("return.created"));

        Assert.Equal(ReturnHandlingOutcome.Reconciled, Assert.Single(deliveries).Result!.Outcome);
        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Equal(1, reads.Reads);
    }

    [Fact]
    public async Task The_handler_orders_snapshots_by_the_event_time_in_the_message_not_by_reading_the_body_again()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").EditedAtMinutes(30);
        var queued = await QueuedByIngressAsync(h, r.Webhook("return.created"));
        // A time the body does not carry: only the property can put it in the ledger.
        var stamped = r.EditedAt.AddDays(1);
        await h.Bus.SendAsync(queued with { Properties = With(queued.Properties, WebhookMessagePropertyNames.EventTime, WebhookMessageProperties.FormatEventTime(stamped)) }, Ct);

        await h.DrainAsync();

        var stored = await h.Ledger.GetSnapshotAsync(r.ReturnId, Ct);
        Assert.Equal(stamped, stored!.EventTime);
    }

    [Fact]
    public async Task Messages_queued_before_the_ingress_wrote_the_event_time_are_ordered_by_the_time_their_body_carries()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var created = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        var closed = LoopReturnBuilder.ForDemoSale("#1001", created.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001")
            .WithState("closed").EditedAtMinutes(90);
        // Both were queued by the previous ingress (every property but the event time); the close arrives first.
        foreach (var body in (byte[][])[closed.Webhook("return.closed"), created.Webhook("return.created")])
        {
            var queued = await QueuedByIngressAsync(h, body);
            await h.Bus.SendAsync(queued with { Properties = Without(queued.Properties, WebhookMessagePropertyNames.EventTime) }, Ct);
        }

        var deliveries = await h.DrainAsync();

        Assert.Equal([ReturnHandlingOutcome.Reconciled, ReturnHandlingOutcome.StaleReconciled], deliveries.Select(d => d.Result!.Outcome));
        var stored = await h.Ledger.GetSnapshotAsync(created.ReturnId, Ct);
        Assert.Equal(("closed", closed.EditedAt), (stored!.State, stored.EventTime));
        Assert.Single(h.ReturnOrders(created.ReturnId));
    }

    [Fact]
    public async Task A_message_that_lost_every_property_is_routed_by_its_body_with_the_ingress_rules()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").EditedAtMinutes(30);
        var queued = await QueuedByIngressAsync(h, r.Webhook("return.created"));
        await h.Bus.SendAsync(queued with { SessionId = null, Properties = new Dictionary<string, string>() }, Ct);
        var reads = EnvelopeReads.Start();

        var deliveries = await h.DrainAsync();

        Assert.Equal(ReturnHandlingOutcome.Reconciled, Assert.Single(deliveries).Result!.Outcome);
        Assert.Single(h.ReturnOrders(r.ReturnId));
        var stored = await h.Ledger.GetSnapshotAsync(r.ReturnId, Ct);
        Assert.Equal(r.EditedAt, stored!.EventTime);
        // The fallback is the one extra read such a message costs.
        Assert.Equal(1, reads.Reads);
    }

    private static async Task<OutboundMessage> QueuedByIngressAsync(ReturnsHarness h, byte[] body)
    {
        var result = await h.Services.GetRequiredService<WebhookIngress>().HandleAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Ct);
        Assert.Equal(202, result.Response.StatusCode);
        return result.Message!;
    }

    private static Dictionary<string, string> Without(IReadOnlyDictionary<string, string> properties, string name) =>
        properties.Where(p => p.Key != name).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static Dictionary<string, string> With(IReadOnlyDictionary<string, string> properties, string name, string value) =>
        new(Without(properties, name), StringComparer.Ordinal) { [name] = value };
}
