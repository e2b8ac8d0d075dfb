using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ExchangeOrdersFunction
{
    private readonly QueueEntryRunner _runner;

    public ExchangeOrdersFunction(QueueEntryRunner runner) => _runner = runner;

    /// <summary>
    /// <c>loop-exchanges</c> (no sessions; duplicate detection on MessageId): <see cref="Core.Exchanges.ExchangeOrderHandler"/>
    /// through <see cref="QueueEntryRunner"/>. Permanent problems become an ExchangeOrderFailed record and the message
    /// completes; transient ones are rescheduled with backoff, then parked; anything else escapes and the message is
    /// redelivered, then dead-lettered.
    /// </summary>
    [Function("ExchangeOrders")]
    public Task Run(
        [ServiceBusTrigger(QueueNames.LoopExchanges, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        return _runner.RunAsync(QueueNames.LoopExchanges, context.InstanceServices, message, context.CancellationToken);
    }
}
