using System.Text.Json;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Functions;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>What the ingress read travels in the message on both hosts, so the consumer does not read the body again.</summary>
public sealed class MessagePropertiesFlowTests
{
    [Fact]
    public async Task Trigger_return_id_and_event_time_reach_the_handler_through_both_hosts_queues_without_another_read()
    {
        var body = Fixture("return-created.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var sent = (await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), CancellationToken.None)).Message!;

        // Service Bus: the application properties arrive in the trigger's binding data as JSON text.
        var bindingData = TestFunctionContext.ForServiceBus(sent.MessageId, sent.SessionId, 1, JsonSerializer.Serialize(sent.Properties)).BindingContext.BindingData;
        var viaServiceBus = ServiceBusBindingData.ToInboundMessage(sent.Body, bindingData);
        // serve: the Azurite queue envelope.
        Assert.True(LocalQueueEnvelope.TryDecode(new LocalQueueEnvelope(sent.MessageId, sent.SessionId, sent.Properties, sent.Body, DateTimeOffset.UnixEpoch).Encode(), out var local, out var error), error);
        InboundMessage viaServe = new(local!.Body, local.MessageId, local.SessionId, 1, local.Properties);

        foreach (var delivered in (InboundMessage[])[viaServiceBus, viaServe])
        {
            var reads = EnvelopeReads.Start();
            var evt = ReturnEvent.From(delivered)!;

            // The published sample: id 6042537, label_updated_at 16:07:33 its latest time.
            Assert.Equal(("return.created", "6042537", new DateTimeOffset(2020, 10, 29, 16, 7, 33, TimeSpan.Zero)), (evt.Trigger, evt.ReturnId, evt.EventTime!.Value));
            Assert.Equal(0, reads.Reads);
        }
    }
}
