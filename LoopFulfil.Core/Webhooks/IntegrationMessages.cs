using LoopFulfil.Core.Messaging;

namespace LoopFulfil.Core.Webhooks;

/// <summary>
/// The one way the integration queues an event of its own (inspection, exchange created, postings) on
/// <c>loop-returns</c>: stamped with the envelope properties the ingress gives a webhook — topic (from
/// <see cref="TriggerTable"/>), trigger, return id and event time (<c>none</c> when there is none) — so the consumer
/// (<c>ReturnEvent.From</c>) takes them from the properties and never reads the body a second time.
/// </summary>
public static class IntegrationMessages
{
    /// <param name="eventTime">The time the body carries (what the envelope reader would find in it), or null for none.</param>
    /// <param name="properties">Further properties (e.g. the dedupe key); the envelope properties win over same-named ones.</param>
    public static OutboundMessage ToLoopReturns(string trigger, string returnId, byte[] body, string messageId, DateTimeOffset? eventTime, IReadOnlyDictionary<string, string>? properties = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        ArgumentException.ThrowIfNullOrEmpty(returnId);
        var stamped = properties is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(properties, StringComparer.Ordinal);
        if (TriggerTable.Find(trigger)?.Topic is { } topic)
        {
            stamped[WebhookMessagePropertyNames.Topic] = topic;
        }

        stamped[WebhookMessagePropertyNames.Trigger] = trigger;
        stamped[WebhookMessagePropertyNames.ReturnId] = returnId;
        stamped[WebhookMessagePropertyNames.EventTime] = WebhookMessageProperties.FormatEventTime(eventTime);
        return new OutboundMessage(QueueNames.LoopReturns, body, messageId, returnId, stamped);
    }
}
