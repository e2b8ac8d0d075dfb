using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Returns;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ReturnEventsFunction
{
    private readonly ReturnEventHandler handler;
    private readonly ClaimCheck claims;
    private readonly MessageRedelivery redelivery;

    public ReturnEventsFunction(ReturnEventHandler handler, ClaimCheck claims, MessageRedelivery redelivery)
    {
        this.handler = handler;
        this.claims = claims;
        this.redelivery = redelivery;
    }

    /// <summary>
    /// <c>loop-returns</c> (session per Loop return id, so one return's events run one at a time, in order):
    /// <see cref="ReturnEventHandler.HandleAsync"/> through <see cref="MessageRedelivery.HandleAsync"/>. Returning
    /// completes the message: handled, a permanent problem recorded, or a transient failure rescheduled with backoff
    /// (a scheduled copy in the same session) or parked as an exception record. Anything else escapes: Service Bus
    /// redelivers, then dead-letters (see <see cref="DeadLetterFunctions"/>).
    /// </summary>
    [Function("LoopReturnEvents")]
    public async Task Run(
        [ServiceBusTrigger(QueueNames.LoopReturns, Connection = Connections.ServiceBus, IsSessionsEnabled = true)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        InboundMessage message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);

        // A large Loop body travels by claim-check (see ServiceBusMessageSender); put it back before Core sees it.
        message = await claims.ResolveAsync(message, context.CancellationToken);
        await redelivery.HandleAsync(QueueNames.LoopReturns, message, handler.HandleAsync, context.CancellationToken);
    }
}
