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
        byte[] body = Fixture("return-created.json");
        using WebhookIngress ingress = IngressHarness.Create(new NoStorageAllowed());
        OutboundMessage sent = (await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), CancellationToken.None)).Message!;

        // Service Bus: the application properties arrive in the trigger's binding data as JSON text.
        var bindingData = TestFunctionContext.ForServiceBus(sent.MessageId, sent.SessionId, 1, JsonSerializer.Serialize(sent.Properties)).BindingContext.BindingData;
        InboundMessage viaServiceBus = ServiceBusBindingData.ToInboundMessage(sent.Body, bindingData);
        // serve: the Azurite queue envelope.
        Assert.True(LocalQueueEnvelope.TryDecode(new LocalQueueEnvelope(sent.MessageId, sent.SessionId, sent.Properties, sent.Body, DateTimeOffset.UnixEpoch).Encode(), out LocalQueueEnvelope? local, out string? error), error);
        InboundMessage viaServe = new(local!.Body, local.MessageId, local.SessionId, 1, local.Properties);

        foreach (InboundMessage delivered in (InboundMessage[])[viaServiceBus, viaServe])
        {
            EnvelopeReads.ReadCount reads = EnvelopeReads.Start();
            ReturnEvent evt = ReturnEvent.From(delivered)!;

            // The published sample: id 6042537, label_updated_at 16:07:33 its latest time.
            Assert.Equal(("return.created", "6042537", new DateTimeOffset(2020, 10, 29, 16, 7, 33, TimeSpan.Zero)), (evt.Trigger, evt.ReturnId, evt.EventTime!.Value));
            Assert.Equal(0, reads.Reads);
        }
    }
}
