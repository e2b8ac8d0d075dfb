using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// Receipt: as soon as the parcel is known to have arrived (<see cref="ReturnUnitPlan.ParcelArrived"/>: an inspection,
/// a delivered label, a restock request), the return order's customer return shipments are received into the
/// warehouse's quarantine through Tryton's return flow (<see cref="QuarantineLocation"/>): receive, point the
/// inventory moves at quarantine, done. Inspected verdicts are not awaited: units wait for them in quarantine. A unit
/// inspected as missing is not received (the draft incoming move is lowered first: a partial receipt). A shipment
/// someone received by hand in Fulfil is finished into quarantine too; units already there are not received again.
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
        if (!plan.ParcelArrived || plan.ToReceive.Count == 0)
        {
            LogWaiting(logger, context.ReturnId, plan.Units.Count);
            return;
        }

        IReadOnlyDictionary<int, int> arrived = await ProductsAsync(catalog, plan.ToReceiveBySku, cancellationToken).ConfigureAwait(false);
        QuarantineLocation quarantine = await QuarantineLocation.ResolveAsync(context, fulfil, outcomes, returnOrderId, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<FulfilReturnShipmentMoves> shipments = await outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (await FinishReceivedAsync(context, shipments, quarantine, cancellationToken).ConfigureAwait(false))
        {
            shipments = await outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyDictionary<int, decimal> received = QuarantineStock.ReceivedByProduct(shipments, quarantine.Id);
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

                    FulfilReturnShipmentMoves done = await outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, ct).ConfigureAwait(false);
                    return done.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                },
                cancellationToken).ConfigureAwait(false);
            LogReceived(logger, context.ReturnId, shipment.Id, take.Sum(t => t.Quantity), take.Sum(t => t.Move.Quantity), quarantine.Code, plan.ArrivalSignal!, step.Created);
        }
    }

    /// <summary>
    /// Shipments already <c>received</c>: a receipt of ours whose <c>done</c> was lost (the answer to a committed call,
    /// or the worker stopped), or one someone received by hand in Fulfil, whose inventory moves still point at
    /// storage. Finishing it into quarantine (receive is not repeated, done follows) keeps its units counted once and
    /// keeps unexamined goods out of sellable stock.
    /// </summary>
    private async Task<bool> FinishReceivedAsync(ReturnContext context, IReadOnlyList<FulfilReturnShipmentMoves> shipments, QuarantineLocation quarantine, CancellationToken cancellationToken)
    {
        var finished = false;
        foreach (FulfilReturnShipmentMoves shipment in shipments.Where(s => s.State == "received").OrderBy(s => s.Id))
        {
            StepRecord? step = await context.Ledger.GetStepAsync(context.ReturnId, OutcomeSteps.Receipt(shipment.Id), cancellationToken).ConfigureAwait(false);
            if (step is { Status: StepStatus.Done })
            {
                // Recorded done but still received in Fulfil: finish it directly (every call reads the state first).
                await outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await context.Ledger.EnsureStepAsync(
                    context.ReturnId,
                    OutcomeSteps.Receipt(shipment.Id),
                    async ct => (await outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, ct).ConfigureAwait(false)).Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    cancellationToken).ConfigureAwait(false);
            }

            finished = true;
        }

        return finished;
    }

    /// <summary>Units per Fulfil product id (SKUs the catalog does not know are skipped: authorisation reports them).</summary>
    internal static async Task<IReadOnlyDictionary<int, int>> ProductsAsync(FulfilSkuCatalog catalog, IReadOnlyDictionary<string, int> bySku, CancellationToken cancellationToken)
    {
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

    [LoggerMessage(EventId = 4611, Level = LogLevel.Information, Message = "Return {ReturnId}: not receiving yet ({Units} units; no sign the parcel arrived)")]
    private static partial void LogWaiting(ILogger logger, string returnId, int units);

    [LoggerMessage(EventId = 4612, Level = LogLevel.Information, Message = "Return {ReturnId}: customer return shipment {ShipmentId} received into {Location} with {Units} of {Expected} units on {Signal} (now: {Created})")]
    private static partial void LogReceived(ILogger logger, string returnId, int shipmentId, decimal units, decimal expected, string location, string signal, bool created);
}

/// <summary>What a return put into quarantine, read from Fulfil.</summary>
internal static class QuarantineStock
{
    /// <summary>
    /// Units per product that the return's shipments moved into quarantine: done inventory moves, or done incoming
    /// moves where the warehouse receives straight into storage.
    /// </summary>
    public static IReadOnlyDictionary<int, decimal> ReceivedByProduct(IReadOnlyList<FulfilReturnShipmentMoves> shipments, int quarantineId) =>
        shipments.Where(s => s.State is "done" or "received")
            .SelectMany(s => s.InventoryMoves.Concat(s.IncomingMoves))
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
