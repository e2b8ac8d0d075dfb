using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ExceptionsFunction
{
    private readonly QueueEntryRunner _runner;

    public ExceptionsFunction(QueueEntryRunner runner) => _runner = runner;

    /// <summary>
    /// <c>exceptions</c> queue: <see cref="Core.Exceptions.ExceptionAlertHandler"/> through <see cref="QueueEntryRunner"/>
    /// logs each new exception record and, when <c>Exceptions__FlagReturnInLoop</c> is on, flags the return in Loop
    /// with a note saying why. A transient Loop failure reschedules the alert with backoff.
    /// </summary>
    [Function("ExceptionAlerts")]
    public Task Run(
        [ServiceBusTrigger(QueueNames.Exceptions, Connection = Connections.ServiceBus)] byte[] body,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = ServiceBusBindingData.ToInboundMessage(body, context.BindingContext.BindingData);
        return _runner.RunAsync(QueueNames.Exceptions, context.InstanceServices, message, context.CancellationToken);
    }
}
