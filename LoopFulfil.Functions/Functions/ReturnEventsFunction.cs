using LoopFulfil.Core.LocalHost;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ReturnEventsFunction
{
    private readonly ReturnEventHandler handler;
    private readonly ClaimCheck claims;

    public ReturnEventsFunction(ReturnEventHandler handler, ClaimCheck claims)
    {
        this.handler = handler;
        this.claims = claims;
    }

    /// <summary>
    /// <c>loop-returns</c> (session per Loop return id, so one return's events run one at a time, in order):
    /// <see cref="ReturnEventHandler.HandleAsync"/>. Returning completes the message, also when a permanent problem
    /// became an exception record; a transient failure escapes, the message is redelivered, and after the queue's
    /// MaxDeliveryCount it is dead-lettered (which alerts).
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
        await handler.HandleAsync(message, context.CancellationToken);
    }
}
