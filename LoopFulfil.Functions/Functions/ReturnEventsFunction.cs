using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ReturnEventsFunction
{
    private readonly QueueEntryRunner _runner;

    public ReturnEventsFunction(QueueEntryRunner runner) => _runner = runner;

    /// <summary>
    /// <c>loop-returns</c> (session per Loop return id, so one return's events run one at a time, in order): the
    /// list's entry point (<see cref="EntryPoints.Queues"/>, <see cref="Core.Returns.ReturnEventHandler"/>) through
    /// <see cref="QueueEntryRunner"/>: claim-check resolved, then redelivery. Returning completes the message (handled,
    /// recorded, or rescheduled with backoff); anything else escapes: Service Bus redelivers, then dead-letters
    /// (<see cref="DeadLetterFunctions"/>).
    /// </summary>
    [Function("LoopReturnEvents")]
    public Task Run(
        [ServiceBusTrigger(QueueNames.LoopReturns, Connection = Connections.ServiceBus, IsSessionsEnabled = true)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        return _runner.RunAsync(QueueNames.LoopReturns, context.InstanceServices, message, context.CancellationToken);
    }
}
