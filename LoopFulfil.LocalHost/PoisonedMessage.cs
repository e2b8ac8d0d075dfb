using LoopFulfil.Core.Messaging;

namespace LoopFulfil.LocalHost;

/// <summary>A message moved to its poison queue (the single-machine dead-letter queue).</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="PoisonQueue">Where it now is: <c>{Queue}-poison</c>.</param>
/// <param name="Message">The message as the handler last saw it (for an unreadable envelope: the raw bytes, the store id as MessageId).</param>
/// <param name="Reason">Why: <see cref="PoisonReasons"/>.</param>
/// <param name="ErrorDescription">The last failure (exception type and message), when there was one.</param>
public sealed record PoisonedMessage(string Queue, string PoisonQueue, InboundMessage Message, string Reason, string? ErrorDescription);

/// <summary>Values of <see cref="PoisonedMessage.Reason"/> (and the <c>DeadLetterReason</c> property on the poison queue).</summary>
public static class PoisonReasons
{
    /// <summary>The handler failed on the last allowed delivery, or the message came back after it.</summary>
    public const string MaxDeliveryCountExceeded = "MaxDeliveryCountExceeded";

    /// <summary>The handler threw a <see cref="Core.Errors.PermanentIntegrationException"/>: retrying cannot help.</summary>
    public const string PermanentFailure = "PermanentFailure";

    /// <summary>The queue message is not a <see cref="LocalQueueEnvelope"/>.</summary>
    public const string MalformedEnvelope = "MalformedEnvelope";
}

/// <summary>
/// Told about every message moved to a poison queue. Register one to raise an exception record; the
/// single-machine host resolves it for every queue handler registered with
/// <see cref="LocalHostServiceCollectionExtensions.AddLoopFulfilQueueHandler"/>.
/// </summary>
public interface IPoisonMessageSink
{
    Task OnPoisonedAsync(PoisonedMessage message, CancellationToken cancellationToken);
}
