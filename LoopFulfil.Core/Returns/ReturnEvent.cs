using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Names of the Loop webhook triggers (the <c>trigger</c> field of the raw event). Where each goes, or that it is
/// parked, is in <see cref="TriggerTable"/>.
/// </summary>
public static class ReturnTriggers
{
    public const string ReturnCreated = "return.created";
    public const string ReturnUpdated = "return.updated";
    public const string ReturnClosed = "return.closed";
    public const string ReturnProcessingFailed = "return.processing.failed";
    public const string LabelCreated = "label.created";
    public const string LabelUpdated = "label.updated";
    public const string LabelRequestIssued = "label.request.issued";
    public const string LabelRequestCancelled = "label.request.cancelled";
    public const string RestockRequested = "restock.requested";
    public const string GiftCardRequested = "giftcard.requested";
    public const string ShipmentProcessed = "shipment.processed";

    /// <summary>True for the triggers whose body is a full return snapshot (<c>return.created/updated/closed</c>).</summary>
    public static bool CarriesSnapshot(string? trigger) => TriggerTable.CarriesSnapshot(trigger);
}

/// <summary>
/// The message that started this run of the pipeline: which Loop event arrived, for which return, and its raw body.
/// Stages that react to a specific event (restock, gift card, label) read it with <see cref="Read{T}"/>; events of
/// other kinds are also kept in the ledger (<see cref="ReturnLedger.GetEventsAsync"/>).
/// </summary>
public sealed record ReturnEvent
{
    /// <summary>The Loop return id the event concerns.</summary>
    public required string ReturnId { get; init; }

    /// <summary><c>return</c>, <c>label</c>, <c>restock</c>, <c>giftcard</c>, <c>return.processing</c>…</summary>
    public string? Topic { get; init; }

    /// <summary>One of <see cref="ReturnTriggers"/>.</summary>
    public required string Trigger { get; init; }

    /// <summary>The webhook body exactly as Loop sent it.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The queue message id (fresh per replay).</summary>
    public required string MessageId { get; init; }

    /// <summary>The event's idempotency key (the ingress message id, kept across replays).</summary>
    public required string DedupeKey { get; init; }

    /// <summary>The exception record this delivery replays, or null.</summary>
    public string? ReplayOf { get; init; }

    /// <summary>1 on first delivery.</summary>
    public int DeliveryCount { get; init; } = 1;

    /// <summary>The event's own time: the latest time its body carries (<see cref="WebhookEnvelope.EventTime"/>), when it has one.</summary>
    public DateTimeOffset? EventTime { get; init; }

    /// <summary>
    /// True when the event carried a snapshot older than the one already applied: the pipeline ran on the stored
    /// newest snapshot instead, and the event's own content must not be acted on.
    /// </summary>
    public bool IsStale { get; init; }

    /// <summary>True when the delivery is an exception replay.</summary>
    public bool IsReplay => ReplayOf is not null;

    /// <summary>True for <c>return.created/updated/closed</c>.</summary>
    public bool CarriesSnapshot => ReturnTriggers.CarriesSnapshot(Trigger);

    /// <summary>Reads the body as a Loop model (e.g. <c>LoopRestockEvent</c>) with the tolerant Loop options.</summary>
    public T Read<T>() => LoopJson.Deserialize<T>(Body.Span);

    /// <summary>
    /// The event a <c>loop-returns</c> message carries, from what the ingress read and put in its properties
    /// (trigger, return id, event time). A message queued without them — before the ingress wrote the event time,
    /// or by a host that dropped properties — is read with the same envelope reader the ingress uses, so one id rule
    /// and one time rule hold either way. Null when neither names a trigger and a return id.
    /// </summary>
    public static ReturnEvent? From(InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var p = message.Properties;
        var trigger = Get(p, WebhookMessagePropertyNames.Trigger);
        var returnId = Get(p, WebhookMessagePropertyNames.ReturnId) ?? message.SessionId;
        var topic = Get(p, WebhookMessagePropertyNames.Topic);
        var time = Get(p, WebhookMessagePropertyNames.EventTime);
        var eventTime = WebhookMessageProperties.ParseEventTime(time);
        // No time property, or one a host rewrote past reading: the body says, by the same rule.
        var timeUnknown = time is null || (eventTime is null && time != WebhookMessagePropertyNames.NoEventTime);
        if (trigger is null || returnId is null || timeUnknown)
        {
            var envelope = WebhookEnvelope.Parse(message.Body.Span);
            trigger ??= envelope.Trigger;
            returnId ??= envelope.ReturnId;
            topic ??= envelope.Topic;
            eventTime = timeUnknown ? envelope.EventTime : eventTime;
        }

        if (string.IsNullOrEmpty(trigger) || string.IsNullOrEmpty(returnId))
        {
            return null;
        }

        return new ReturnEvent
        {
            ReturnId = returnId,
            Trigger = trigger,
            Topic = topic,
            Body = message.Body,
            MessageId = message.MessageId,
            DedupeKey = Get(p, WebhookMessagePropertyNames.DedupeKey) ?? message.MessageId,
            ReplayOf = Get(p, WebhookMessagePropertyNames.ReplayOf),
            DeliveryCount = message.DeliveryCount,
            EventTime = eventTime,
        };

        static string? Get(IReadOnlyDictionary<string, string> p, string name) =>
            p.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
    }
}
