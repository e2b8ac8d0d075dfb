using System.Globalization;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// The envelope properties a <c>loop-returns</c> message carries (topic, trigger, return id, event time), to compare
/// what a sender stamps with what the ingress stamps on a webhook of the same return.
/// </summary>
internal static class EnvelopeStamp
{
    public static (string? Topic, string? Trigger, string? ReturnId, string? EventTime) Of(OutboundMessage message) =>
        (Get(message, WebhookMessagePropertyNames.Topic), Get(message, WebhookMessagePropertyNames.Trigger),
            Get(message, WebhookMessagePropertyNames.ReturnId), Get(message, WebhookMessagePropertyNames.EventTime));

    /// <summary>What the ingress stamps on a signed webhook with this body.</summary>
    public static (string? Topic, string? Trigger, string? ReturnId, string? EventTime) ByIngress(byte[] webhookBody) =>
        Of(WebhookIngress.TryBuildMessage(webhookBody, null, null) ?? throw new InvalidOperationException("The ingress does not route this body."));

    /// <summary>The instant an event time property names (null when the message has none).</summary>
    public static DateTimeOffset? EventTime(OutboundMessage message) =>
        Get(message, WebhookMessagePropertyNames.EventTime) is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture) : null;

    /// <summary>The message as its consumer receives it.</summary>
    public static InboundMessage Delivered(OutboundMessage message) => new(message.Body, message.MessageId, message.SessionId, 1, message.Properties);

    private static string? Get(OutboundMessage message, string name) => message.Properties.TryGetValue(name, out var value) ? value : null;
}
