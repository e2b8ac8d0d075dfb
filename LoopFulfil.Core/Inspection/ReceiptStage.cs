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
    private readonly IFulfilClient _fulfil;
    private readonly IFulfilOutcomesClient _outcomes;
    private readonly FulfilSkuCatalog _catalog;
    private readonly ReturnUnitPlanLoader _plans;
    private readonly ILogger<ReceiptStage> _logger;

    public ReceiptStage(IFulfilClient fulfil, IFulfilOutcomesClient outcomes, FulfilSkuCatalog catalog, ReturnUnitPlanLoader plans, ILogger<ReceiptStage> logger)
    {
        _fulfil = fulfil;
        _outcomes = outcomes;
        _catalog = catalog;
        _plans = plans;
        _logger = logger;
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

        var plan = await _plans.LoadAsync(context, cancellationToken).ConfigureAwait(false);
        if (!plan.ParcelArrived || plan.ToReceive.Count == 0)
        {
            LogWaiting(_logger, context.ReturnId, plan.Units.Count);
            return;
        }

        var arrived = await ProductsAsync(_catalog, plan.ToReceiveBySku, cancellationToken).ConfigureAwait(false);
        var quarantine = await QuarantineLocation.ResolveAsync(context, _fulfil, _outcomes, returnOrderId, cancellationToken).ConfigureAwait(false);
        var shipments = await _outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (await FinishReceivedAsync(context, shipments, quarantine, cancellationToken).ConfigureAwait(false))
        {
            shipments = await _outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        }

        var received = QuarantineStock.ReceivedByProduct(shipments, quarantine.Id);
        var need = arrived.ToDictionary(kv => kv.Key, kv => Math.Max(0m, kv.Value - received.GetValueOrDefault(kv.Key)));

        foreach (var shipment in shipments.Where(s => s.State == "draft").OrderBy(s => s.Id))
        {
            // What this shipment will bring in, product by product, bounded by what it expects.
            var take = new List<(FulfilStockMove Move, decimal Quantity)>();
            foreach (var move in shipment.IncomingMoves.Where(m => m.State == "draft"))
            {
                var quantity = Math.Min(move.Quantity, need.GetValueOrDefault(move.ProductId));
                need[move.ProductId] = need.GetValueOrDefault(move.ProductId) - quantity;
                take.Add((move, quantity));
            }

            if (take.Sum(t => t.Quantity) <= 0)
            {
                continue;
            }

            var step = await context.Ledger.EnsureStepAsync(
                context.ReturnId,
                OutcomeSteps.Receipt(shipment.Id),
                async ct =>
                {
                    foreach ((var move, var quantity) in take.Where(t => t.Quantity != t.Move.Quantity))
                    {
                        await _outcomes.SetDraftMoveQuantityAsync(move.Id, quantity, ct).ConfigureAwait(false);
                    }

                    var done = await _outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, ct).ConfigureAwait(false);
                    return done.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                },
                cancellationToken).ConfigureAwait(false);
            LogReceived(_logger, context.ReturnId, shipment.Id, take.Sum(t => t.Quantity), take.Sum(t => t.Move.Quantity), quarantine.Code, plan.ArrivalSignal!, step.Created);
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
        foreach (var shipment in shipments.Where(s => s.State == "received").OrderBy(s => s.Id))
        {
            var step = await context.Ledger.GetStepAsync(context.ReturnId, OutcomeSteps.Receipt(shipment.Id), cancellationToken).ConfigureAwait(false);
            if (step is { Status: StepStatus.Done })
            {
                // Recorded done but still received in Fulfil: finish it directly (every call reads the state first).
                await _outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await context.Ledger.EnsureStepAsync(
                    context.ReturnId,
                    OutcomeSteps.Receipt(shipment.Id),
                    async ct => (await _outcomes.ReceiveIntoAsync(shipment.Id, quarantine.Id, quarantine.InputIsStorage, ct).ConfigureAwait(false)).Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    cancellationToken).ConfigureAwait(false);
            }

            finished = true;
        }

        return finished;
    }

    /// <summary>Units per Fulfil product id (SKUs the catalog does not know are skipped: authorisation reports them).</summary>
    internal static async Task<IReadOnlyDictionary<int, int>> ProductsAsync(FulfilSkuCatalog catalog, IReadOnlyDictionary<string, int> bySku, CancellationToken cancellationToken)
    {
        var products = await catalog.GetProductsAsync([.. bySku.Keys], cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<int, int>();
        foreach ((var sku, var count) in bySku)
        {
            if (products.TryGetValue(sku, out var p))
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
        var found = await fulfil.GetLocationsByCodesAsync([code], cancellationToken).ConfigureAwait(false);
        return found.FirstOrDefault(l => string.Equals(l.Code, code, StringComparison.Ordinal))?.Id
            ?? throw new ReturnStageException(Exceptions.ExceptionCategory.FulfilRejected, $"Fulfil has no stock.location with code '{code}' (check the Fulfil and Inspection location settings).") { DetailKey = "location:" + code };
    }
}
