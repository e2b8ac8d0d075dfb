using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ExchangeOrdersFunction
{
    private readonly ExchangeOrderHandler handler;

    public ExchangeOrdersFunction(ExchangeOrderHandler handler) => this.handler = handler;

    /// <summary>
    /// <c>loop-exchanges</c> (no sessions; duplicate detection on MessageId): <see cref="ExchangeOrderHandler.HandleAsync"/>
    /// creates the priority sales order in Fulfil. Permanent problems become an ExchangeOrderFailed record and the
    /// message completes; transient ones escape and the message is redelivered, then dead-lettered.
    /// </summary>
    [Function("ExchangeOrders")]
    public async Task Run(
        [ServiceBusTrigger(QueueNames.LoopExchanges, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        InboundMessage message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        await handler.HandleAsync(message, context.CancellationToken);
    }
}
