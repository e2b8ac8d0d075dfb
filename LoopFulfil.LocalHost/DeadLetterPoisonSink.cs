using LoopFulfil.Core.Redelivery;

namespace LoopFulfil.LocalHost;

/// <summary>
/// Poisoned messages become replayable DeadLettered exception records through the same <see cref="DeadLetterRecorder"/>
/// as the Functions' dead-letter triggers.
/// </summary>
public sealed class DeadLetterPoisonSink(DeadLetterRecorder recorder) : IPoisonMessageSink
{
    public Task OnPoisonedAsync(PoisonedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return recorder.RecordAsync(new DeadLetteredMessage(message.Queue, message.Message, message.Reason, message.ErrorDescription), cancellationToken);
    }
}
