using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// Receipt: once the fate of every unit is settled (<see cref="ReturnUnitPlan.CanReceive"/>), the return order's
/// customer return shipment is received into quarantine with exactly the units that arrived. A unit reported missing
/// is not received: the draft incoming move is lowered to what arrived first (a partial receipt). Units Fulfil
/// already received (by someone in Fulfil, or an earlier pass) are not received again.
/// </summary>
public sealed partial class ReceiptStage : IReturnStage
{
    private readonly IFulfilClient fulfil;
    private readonly IFulfilOutcomesClient outcomes;
    private readonly FulfilSkuCatalog catalog;
    private readonly ReturnUnitPlanLoader plans;
    private readonly ILogger<ReceiptStage> logger;

    public ReceiptStage(IFulfilClient fulfil, IFulfilOutcomesClient outcomes, FulfilSkuCatalog catalog, ReturnUnitPlanLoader plans, ILogger<ReceiptStage> logger)
    {
        this.fulfil = fulfil;
        this.outcomes = outcomes;
        this.catalog = catalog;
        this.plans = plans;
        this.logger = logger;
    }

    public int Order => ReturnStageOrder.Receipt;

    public string Name => "receipt";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsCancelledOrExpired || context.ReturnOrderId is not int returnOrderId)
        {
            return;
        }

        ReturnUnitPlan plan = await plans.LoadAsync(context, cancellationToken).ConfigureAwait(false);
        if (!plan.CanReceive)
        {
            LogWaiting(logger, context.ReturnId, plan.Units.Count(u => !u.Decided), plan.Failed.Count);
            return;
        }

        IReadOnlyDictionary<int, int> arrived = await ArrivedByProductAsync(catalog, plan, cancellationToken).ConfigureAwait(false);
        int quarantine = await QuarantineStock.LocationIdAsync(fulfil, context.FulfilOptions.QuarantineLocationCode, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<FulfilReturnShipmentMoves> shipments = await outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (await FinishStartedReceiptsAsync(context, shipments, cancellationToken).ConfigureAwait(false))
        {
            shipments = await outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyDictionary<int, decimal> received = QuarantineStock.ReceivedByProduct(shipments, quarantine);
        var need = arrived.ToDictionary(kv => kv.Key, kv => Math.Max(0m, kv.Value - received.GetValueOrDefault(kv.Key)));

        foreach (FulfilReturnShipmentMoves shipment in shipments.Where(s => s.State == "draft").OrderBy(s => s.Id))
        {
            // What this shipment will bring in, product by product, bounded by what it expects.
            var take = new List<(FulfilStockMove Move, decimal Quantity)>();
            foreach (FulfilStockMove move in shipment.IncomingMoves.Where(m => m.State == "draft"))
            {
                decimal quantity = Math.Min(move.Quantity, need.GetValueOrDefault(move.ProductId));
                need[move.ProductId] = need.GetValueOrDefault(move.ProductId) - quantity;
                take.Add((move, quantity));
            }

            if (take.Sum(t => t.Quantity) <= 0)
            {
                continue;
            }

            StepResult step = await context.Ledger.EnsureStepAsync(
                context.ReturnId,
                OutcomeSteps.Receipt(shipment.Id),
                async ct =>
                {
                    foreach ((FulfilStockMove move, decimal quantity) in take.Where(t => t.Quantity != t.Move.Quantity))
                    {
                        await outcomes.SetDraftMoveQuantityAsync(move.Id, quantity, ct).ConfigureAwait(false);
                    }

                    FulfilCustomerReturnShipment done = await fulfil.ReceiveCustomerReturnShipmentAsync(shipment.Id, ct).ConfigureAwait(false);
                    return done.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                },
                cancellationToken).ConfigureAwait(false);
            LogReceived(logger, context.ReturnId, shipment.Id, take.Sum(t => t.Quantity), take.Sum(t => t.Move.Quantity), step.Created);
        }
    }

    /// <summary>
    /// A receipt this stage started whose shipment is already <c>received</c>: the receive call committed but its answer
    /// was lost (or the worker stopped before <c>done</c>). Finishing it (receive is a no-op there, done follows) keeps
    /// its units counted once; without this the shipment is no longer draft and would be skipped for good.
    /// </summary>
    private async Task<bool> FinishStartedReceiptsAsync(ReturnContext context, IReadOnlyList<FulfilReturnShipmentMoves> shipments, CancellationToken cancellationToken)
    {
        var finished = false;
        foreach (FulfilReturnShipmentMoves shipment in shipments.Where(s => s.State == "received").OrderBy(s => s.Id))
        {
            StepRecord? started = await context.Ledger.GetStepAsync(context.ReturnId, OutcomeSteps.Receipt(shipment.Id), cancellationToken).ConfigureAwait(false);
            if (started is not { Status: StepStatus.Started })
            {
                continue;
            }

            await context.Ledger.EnsureStepAsync(
                context.ReturnId,
                OutcomeSteps.Receipt(shipment.Id),
                async ct => (await fulfil.ReceiveCustomerReturnShipmentAsync(shipment.Id, ct).ConfigureAwait(false)).Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                cancellationToken).ConfigureAwait(false);
            finished = true;
        }

        return finished;
    }

    /// <summary>Arrived units per Fulfil product id (SKUs the catalog does not know are skipped: authorisation reports them).</summary>
    internal static async Task<IReadOnlyDictionary<int, int>> ArrivedByProductAsync(FulfilSkuCatalog catalog, ReturnUnitPlan plan, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, int> bySku = plan.ArrivedBySku;
        IReadOnlyDictionary<string, FulfilProduct> products = await catalog.GetProductsAsync([.. bySku.Keys], cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<int, int>();
        foreach ((string sku, int count) in bySku)
        {
            if (products.TryGetValue(sku, out FulfilProduct? p))
            {
                result[p.Id] = result.GetValueOrDefault(p.Id) + count;
            }
        }

        return result;
    }

    [LoggerMessage(EventId = 4611, Level = LogLevel.Information, Message = "Return {ReturnId}: not receiving yet ({Undecided} units undecided, {Failed} failed)")]
    private static partial void LogWaiting(ILogger logger, string returnId, int undecided, int failed);

    [LoggerMessage(EventId = 4612, Level = LogLevel.Information, Message = "Return {ReturnId}: customer return shipment {ShipmentId} received with {Units} of {Expected} units (now: {Created})")]
    private static partial void LogReceived(ILogger logger, string returnId, int shipmentId, decimal units, decimal expected, bool created);
}

/// <summary>What a return put into quarantine, read from Fulfil.</summary>
internal static class QuarantineStock
{
    /// <summary>Units per product that the return's shipments moved into quarantine (done inventory moves).</summary>
    public static IReadOnlyDictionary<int, decimal> ReceivedByProduct(IReadOnlyList<FulfilReturnShipmentMoves> shipments, int quarantineId) =>
        shipments.Where(s => s.State is "done" or "received")
            .SelectMany(s => s.InventoryMoves)
            .Where(m => m.State == "done" && m.ToLocationId == quarantineId)
            .GroupBy(m => m.ProductId)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Quantity));

    public static async Task<int> LocationIdAsync(IFulfilClient fulfil, string code, CancellationToken cancellationToken)
    {
        IReadOnlyList<FulfilLocation> found = await fulfil.GetLocationsByCodesAsync([code], cancellationToken).ConfigureAwait(false);
        return found.FirstOrDefault(l => string.Equals(l.Code, code, StringComparison.Ordinal))?.Id
            ?? throw new ReturnStageException(Exceptions.ExceptionCategory.FulfilRejected, $"Fulfil has no stock.location with code '{code}' (check the Fulfil and Inspection location settings).") { DetailKey = "location:" + code };
    }
}
