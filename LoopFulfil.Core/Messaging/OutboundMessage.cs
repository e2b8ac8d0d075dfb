namespace LoopFulfil.Core.Messaging;

/// <summary>Queue names shared by both hosts (Service Bus in Azure, Azurite queues on one machine).</summary>
public static class QueueNames
{
    /// <summary>Every Loop return event; session-enabled, one session per Loop return id.</summary>
    public const string LoopReturns = "loop-returns";

    /// <summary>Confirmed exchanges waiting to become priority sales orders.</summary>
    public const string LoopExchanges = "loop-exchanges";

    /// <summary>Exception records, for alerting.</summary>
    public const string Exceptions = "exceptions";
}

/// <summary>
/// A message Core wants on a queue. Core never talks to Service Bus: the Functions host turns these into output
/// bindings, the single-machine host into Azurite queue messages.
/// </summary>
/// <param name="Queue">One of <see cref="QueueNames"/>.</param>
/// <param name="Body">The payload, UTF-8 JSON (for Loop events, the raw webhook body as received).</param>
/// <param name="MessageId">Stable id; Service Bus duplicate detection drops repeats with the same id.</param>
/// <param name="SessionId">Orders one return's messages; null for unordered queues.</param>
/// <param name="Properties">Application properties (topic, trigger, return id, dedupe key…).</param>
public sealed record OutboundMessage(
    string Queue,
    ReadOnlyMemory<byte> Body,
    string MessageId,
    string? SessionId,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>
    /// Not delivered before this time (a redelivery with backoff): Service Bus schedules the message
    /// (<c>ScheduledEnqueueTime</c>), the single-machine queue hides it by its initial visibility delay. Null: at once.
    /// </summary>
    public DateTimeOffset? ScheduledEnqueueTime { get; init; }
}

/// <summary>Sends <see cref="OutboundMessage"/>s; implemented by each host.</summary>
public interface IMessageSender
{
    Task SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>A message as a handler receives it, whichever host delivered it.</summary>
/// <param name="Body">The payload bytes.</param>
/// <param name="MessageId">The id it was sent with.</param>
/// <param name="SessionId">The session (Loop return id) or null.</param>
/// <param name="DeliveryCount">1 on first delivery.</param>
/// <param name="Properties">Application properties.</param>
public sealed record InboundMessage(
    ReadOnlyMemory<byte> Body,
    string MessageId,
    string? SessionId,
    int DeliveryCount,
    IReadOnlyDictionary<string, string> Properties);
