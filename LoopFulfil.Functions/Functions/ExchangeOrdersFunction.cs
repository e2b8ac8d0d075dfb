using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ExchangeOrdersFunction
{
    private readonly ExchangeOrderHandler handler;
    private readonly MessageRedelivery redelivery;

    public ExchangeOrdersFunction(ExchangeOrderHandler handler, MessageRedelivery redelivery)
    {
        this.handler = handler;
        this.redelivery = redelivery;
    }

    /// <summary>
    /// <c>loop-exchanges</c> (no sessions; duplicate detection on MessageId): <see cref="ExchangeOrderHandler.HandleAsync"/>
    /// creates the priority sales order in Fulfil, through <see cref="MessageRedelivery.HandleAsync"/>. Permanent
    /// problems become an ExchangeOrderFailed record and the message completes; transient ones are rescheduled with
    /// backoff, then parked; anything else escapes and the message is redelivered, then dead-lettered.
    /// </summary>
    [Function("ExchangeOrders")]
    public async Task Run(
        [ServiceBusTrigger(QueueNames.LoopExchanges, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        InboundMessage message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        await redelivery.HandleAsync(QueueNames.LoopExchanges, message, handler.HandleAsync, context.CancellationToken);
    }
}
