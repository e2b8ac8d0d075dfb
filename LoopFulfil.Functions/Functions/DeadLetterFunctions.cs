using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>
/// The dead-letter subqueues of the work queues: each message Service Bus gave up on becomes a replayable
/// <c>DeadLettered</c> exception record (<see cref="DeadLetterRecorder.RecordFromDeadLetterQueueAsync"/>), and
/// returning completes it there. A failure (storage down) escapes and the dead-lettered message is delivered again.
/// The <c>exceptions</c> queue has none: its alerts are about records that already exist.
/// </summary>
public sealed class DeadLetterFunctions
{
    /// <summary>Service Bus's path of a queue's dead-letter subqueue.</summary>
    public const string DeadLetterSuffix = "/$DeadLetterQueue";

    private readonly DeadLetterRecorder _recorder;

    public DeadLetterFunctions(DeadLetterRecorder recorder) => _recorder = recorder;

    /// <summary><c>loop-returns/$DeadLetterQueue</c> (no sessions on a dead-letter subqueue).</summary>
    [Function("LoopReturnsDeadLetters")]
    public Task LoopReturns(
        [ServiceBusTrigger(QueueNames.LoopReturns + DeadLetterSuffix, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context) => RecordAsync(QueueNames.LoopReturns, body, context);

    /// <summary><c>loop-exchanges/$DeadLetterQueue</c>.</summary>
    [Function("LoopExchangesDeadLetters")]
    public Task LoopExchanges(
        [ServiceBusTrigger(QueueNames.LoopExchanges + DeadLetterSuffix, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context) => RecordAsync(QueueNames.LoopExchanges, body, context);

    private async Task RecordAsync(string queue, byte[] body, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        await _recorder.RecordFromDeadLetterQueueAsync(queue, message, context.CancellationToken);
    }
}
