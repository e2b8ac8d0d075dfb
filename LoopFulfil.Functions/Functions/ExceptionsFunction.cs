using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ExceptionsFunction
{
    private readonly ExceptionAlertHandler handler;
    private readonly MessageRedelivery redelivery;

    public ExceptionsFunction(ExceptionAlertHandler handler, MessageRedelivery redelivery)
    {
        this.handler = handler;
        this.redelivery = redelivery;
    }

    /// <summary>
    /// <c>exceptions</c> queue: <see cref="ExceptionAlertHandler.HandleAsync"/> logs each new exception record with a
    /// structured <c>ExceptionCategory</c> (the alert rules count those) and, when <c>Exceptions__FlagReturnInLoop</c>
    /// is on, flags the return in Loop with a note saying why. A transient Loop failure reschedules the alert with
    /// backoff (<see cref="MessageRedelivery.HandleAsync"/>).
    /// </summary>
    [Function("ExceptionAlerts")]
    public async Task Run(
        [ServiceBusTrigger(QueueNames.Exceptions, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        InboundMessage message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        await redelivery.HandleAsync(QueueNames.Exceptions, message, handler.HandleAsync, context.CancellationToken);
    }
}
