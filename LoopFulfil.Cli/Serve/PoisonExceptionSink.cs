using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.LocalHost;
using LoopFulfil.Core.Messaging;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// Turns every message moved to a poison queue into a <see cref="ExceptionCategory.DeadLettered"/> exception record,
/// so it is visible to its owner and (for Loop events) replayable with <c>loopfulfil exceptions replay</c>.
/// </summary>
internal sealed class PoisonExceptionSink(ExceptionService exceptions) : IPoisonMessageSink
{
    public async Task OnPoisonedAsync(PoisonedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var inbound = message.Message;
        var returnId = inbound.SessionId ?? inbound.Properties.GetValueOrDefault("returnId");
        var isLoopEvent = message.Queue == QueueNames.LoopReturns;
        var text = $"Message {inbound.MessageId} on {message.Queue} moved to {message.PoisonQueue} after {inbound.DeliveryCount} deliveries ({message.Reason})"
            + (string.IsNullOrEmpty(message.ErrorDescription) ? "." : $": {message.ErrorDescription}");
        await exceptions.RaiseAsync(
            new ExceptionRaise(ExceptionCategory.DeadLettered, returnId, text)
            {
                // One record per return and queue, refreshed with the latest event; unordered messages get one each.
                DetailKey = returnId is null ? $"{message.Queue}:{inbound.MessageId}" : message.Queue,
                RawEvent = isLoopEvent ? inbound.Body : ReadOnlyMemory<byte>.Empty,
                Source = "serve:" + message.Queue,
            },
            cancellationToken).ConfigureAwait(false);
    }
}
