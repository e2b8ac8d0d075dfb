using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Cancellation: a Loop return that is cancelled or expired cancels its Fulfil return order, as long as nothing was
/// received yet. Goods already received contradict the cancellation; that is a decision for a person
/// (<see cref="ExceptionCategory.ReturnStateConflict"/>), not a guess.
/// </summary>
public sealed partial class CancellationStage : IReturnStage
{
    // Customer return shipment states in which goods have physically arrived.
    private static readonly string[] ReceivedStates = ["received", "done"];

    private readonly IFulfilClient _fulfil;
    private readonly ILogger<CancellationStage> _logger;

    public CancellationStage(IFulfilClient fulfil, ILogger<CancellationStage> logger)
    {
        _fulfil = fulfil;
        _logger = logger;
    }

    public int Order => ReturnStageOrder.Cancellation;

    public string Name => "cancellation";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.IsCancelledOrExpired)
        {
            return;
        }

        var returnId = context.ReturnId;
        if (await context.Ledger.IsDoneAsync(returnId, ReturnSteps.ReturnOrderCancel, cancellationToken).ConfigureAwait(false))
        {
            context.Stop($"return {context.State}; return order already cancelled");
            return;
        }

        var returnOrderId = context.ReturnOrderId;
        if (returnOrderId is null)
        {
            // Not recorded does not mean absent: a crash may have come between the create and the record.
            returnOrderId = (await _fulfil.FindReturnOrderAsync(returnId, cancellationToken).ConfigureAwait(false))?.Id;
        }

        if (returnOrderId is not int id)
        {
            LogNothingToCancel(_logger, returnId, context.State);
            context.Stop($"return {context.State}; no return order exists");
            return;
        }

        context.ReturnOrderId = id;
        var shipments = await _fulfil.GetCustomerReturnShipmentsAsync(id, cancellationToken).ConfigureAwait(false);
        FulfilCustomerReturnShipment[] received = [.. shipments.Where(s => ReceivedStates.Contains(s.State, StringComparer.OrdinalIgnoreCase))];
        if (received.Length > 0)
        {
            await context.RaiseAsync(
                ExceptionCategory.ReturnStateConflict,
                $"Return {returnId} is {context.State} in Loop, but Fulfil already received goods on return order {id} (shipment {string.Join(", ", received.Select(s => s.Number ?? s.Id.ToString(CultureInfo.InvariantCulture)))}). Decide whether to refund or send the goods back; the return order was not cancelled.",
                Name,
                cancellationToken,
                detailKey: context.State).ConfigureAwait(false);
            return;
        }

        var documentId = id.ToString(CultureInfo.InvariantCulture);
        var step = await context.Ledger.EnsureStepAsync(
            returnId,
            ReturnSteps.ReturnOrderCancel,
            async ct => (await _fulfil.GetSaleAsync(id, ct).ConfigureAwait(false)).State == "cancelled" ? documentId : null,
            async ct =>
            {
                context.ReturnOrder = await _fulfil.CancelReturnOrderAsync(id, ct).ConfigureAwait(false);
                return documentId;
            },
            cancellationToken).ConfigureAwait(false);
        LogCancelled(_logger, returnId, id, context.State, step.Created);
        // Nothing downstream (receipt, refunds, exchanges) applies to a return that will not come back.
        context.Stop($"return {context.State}; return order {id} cancelled");
    }

    [LoggerMessage(EventId = 4511, Level = LogLevel.Information, Message = "Return {ReturnId} is {State}; no return order exists, nothing to cancel")]
    private static partial void LogNothingToCancel(ILogger logger, string returnId, string state);

    [LoggerMessage(EventId = 4512, Level = LogLevel.Information, Message = "Return {ReturnId} is {State}; return order {ReturnOrderId} cancelled (now: {Cancelled})")]
    private static partial void LogCancelled(ILogger logger, string returnId, int returnOrderId, string state, bool cancelled);
}
