using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// Inspection and restock: moves received units out of quarantine to the location their inspected condition maps to (the
/// only way out of quarantine; <c>restock.requested</c> never moves anything), one
/// internal shipment per destination (<c>LOOP-{returnId}-RESTOCK-{locationCode}</c>), quantities summed per product
/// and never more than the return put into quarantine. Then Loop's inspection flow: every unit passed → process the
/// return in Loop; a unit failed → flag it with a note (each once).
/// </summary>
public sealed partial class RestockStage : IReturnStage
{
    private const int MaxNoteChars = 254;
    private readonly IFulfilClient _fulfil;
    private readonly IFulfilOutcomesClient _outcomes;
    private readonly ILoopClient _loop;
    private readonly FulfilSkuCatalog _catalog;
    private readonly ReturnUnitPlanLoader _plans;
    private readonly IReturnExceptionReporter _reporter;
    private readonly IOptionsMonitor<InspectionOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RestockStage> _logger;

    public RestockStage(
        IFulfilClient fulfil,
        IFulfilOutcomesClient outcomes,
        ILoopClient loop,
        FulfilSkuCatalog catalog,
        ReturnUnitPlanLoader plans,
        IReturnExceptionReporter reporter,
        IOptionsMonitor<InspectionOptions> options,
        TimeProvider time,
        ILogger<RestockStage> logger)
    {
        _fulfil = fulfil;
        _outcomes = outcomes;
        _loop = loop;
        _catalog = catalog;
        _plans = plans;
        _reporter = reporter;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public int Order => ReturnStageOrder.InspectionRestock;

    public string Name => "restock";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsCancelledOrExpired || context.ReturnOrderId is not int returnOrderId)
        {
            return;
        }

        var plan = await _plans.LoadAsync(context, cancellationToken).ConfigureAwait(false);
        await ReportMissingAsync(context, plan, cancellationToken).ConfigureAwait(false);
        if (plan.HasInspection && plan.Failed.Count > 0 && context.State == ReturnStates.Open)
        {
            await FlagInLoopAsync(context, plan, cancellationToken).ConfigureAwait(false);
        }

        // Only an inspection verdict moves units out of quarantine (a restock request from Loop does not).
        if (plan.CanLeaveQuarantine)
        {
            await MoveOutOfQuarantineAsync(context, plan, returnOrderId, cancellationToken).ConfigureAwait(false);
        }

        if (plan.HasInspection && plan.AllPassed && context.State == ReturnStates.Open && _options.CurrentValue.ProcessPassedReturnsInLoop)
        {
            await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.LoopProcess, async ct =>
            {
                // Queued only: Loop confirms with return.closed, which runs the refund and exchange stages.
                await _loop.ProcessReturnAsync(context.ReturnId, new Dictionary<string, string>(StringComparer.Ordinal) { ["loopfulfil_inspection"] = "passed" }, ct).ConfigureAwait(false);
                return "processed";
            }, cancellationToken).ConfigureAwait(false);
            LogProcessed(_logger, context.ReturnId);
        }
    }

    private async Task MoveOutOfQuarantineAsync(ReturnContext context, ReturnUnitPlan plan, int returnOrderId, CancellationToken cancellationToken)
    {
        var fo = context.FulfilOptions;
        var unitsBySku = plan.Units.Where(u => u.LeavesQuarantine)
            .GroupBy(u => (Code: LocationCode(u.Target, fo), u.Sku))
            .ToDictionary(g => g.Key, g => g.Count());
        if (unitsBySku.Count == 0)
        {
            return;
        }

        var products = await _catalog.GetProductsAsync([.. unitsBySku.Keys.Select(k => k.Sku).Distinct(StringComparer.Ordinal)], cancellationToken).ConfigureAwait(false);
        var quarantine = (await QuarantineLocation.ResolveAsync(context, _fulfil, _outcomes, returnOrderId, cancellationToken).ConfigureAwait(false)).Id;
        var shipments = await _outcomes.GetReturnShipmentMovesAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        var remaining = QuarantineStock.ReceivedByProduct(shipments, quarantine).ToDictionary(kv => kv.Key, kv => kv.Value);

        // Desired quantity per destination and product (several units of one SKU become one move).
        var desired = new SortedDictionary<string, Dictionary<int, decimal>>(StringComparer.Ordinal);
        foreach (((var code, var sku), var count) in unitsBySku)
        {
            if (!products.TryGetValue(sku, out var product))
            {
                continue;
            }

            var perProduct = desired.TryGetValue(code, out var d) ? d : desired[code] = [];
            perProduct[product.Id] = perProduct.GetValueOrDefault(product.Id) + count;
        }

        // Destinations already moved used up their share of what was received.
        var pending = new List<string>();
        foreach ((var code, var perProduct) in desired)
        {
            if (await context.Ledger.IsDoneAsync(context.ReturnId, OutcomeSteps.Restock(code), cancellationToken).ConfigureAwait(false))
            {
                foreach ((var productId, var quantity) in perProduct)
                {
                    remaining[productId] = remaining.GetValueOrDefault(productId) - quantity;
                }
            }
            else
            {
                pending.Add(code);
            }
        }

        var shortfall = 0m;
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        foreach (var code in pending)
        {
            var moves = new List<FulfilMoveRequest>();
            foreach ((var productId, var quantity) in desired[code].OrderBy(kv => kv.Key))
            {
                // Never more than this return put into quarantine: quarantine holds other returns' goods too.
                var movable = Math.Max(0m, Math.Min(quantity, remaining.GetValueOrDefault(productId)));
                shortfall += quantity - movable;
                remaining[productId] = remaining.GetValueOrDefault(productId) - movable;
                if (movable > 0)
                {
                    moves.Add(new FulfilMoveRequest(productId, movable));
                }
            }

            if (moves.Count == 0)
            {
                continue;
            }

            var target = await QuarantineStock.LocationIdAsync(_fulfil, code, cancellationToken).ConfigureAwait(false);
            var reference = context.References.RestockTo(context.ReturnId, code);
            var request = new FulfilInternalShipmentRequest(reference, quarantine, target, today, moves);
            var step = await context.Ledger.EnsureStepAsync(
                context.ReturnId,
                OutcomeSteps.Restock(code),
                async ct => (await _fulfil.TransferStockAsync(request, ct).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
                cancellationToken).ConfigureAwait(false);
            LogMoved(_logger, context.ReturnId, moves.Sum(m => m.Quantity), code, reference, step.Created);
        }

        if (shortfall > 0)
        {
            await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.ShortfallReported, async ct =>
            {
                var r = await _reporter.ReportAsync(new ExceptionRaise(ExceptionCategory.RestockDelayed, context.ReturnId,
                    $"Return {context.ReturnId}: {shortfall.ToString(CultureInfo.InvariantCulture)} inspected unit(s) were not received into quarantine in Fulfil; receive them there, then replay.")
                { DetailKey = "shortfall", RawEvent = context.Event.Body, Source = ExceptionAlertHandler.InlineFlaggingSourcePrefix + ":" + Name }, ct).ConfigureAwait(false);
                return r.Id;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReportMissingAsync(ReturnContext context, ReturnUnitPlan plan, CancellationToken cancellationToken)
    {
        ReturnUnit[] missing = [.. plan.Units.Where(u => u.Decided && !u.Arrived)];
        if (missing.Length == 0)
        {
            return;
        }

        // Reported, not stopped: the rest of the return (other units, refunds Loop already decided) proceeds.
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.MissingReported, async ct =>
        {
            var r = await _reporter.ReportAsync(new ExceptionRaise(ExceptionCategory.RestockDelayed, context.ReturnId,
                $"Return {context.ReturnId}: {missing.Length} unit(s) reported missing on inspection (line items {string.Join(", ", missing.Select(u => u.LineItemId).Distinct(StringComparer.Ordinal))}); they are not received (if the parcel was received before the inspection, take them out of quarantine in Fulfil). Check the parcel and any refund for them.")
            { DetailKey = "missing", RawEvent = context.Event.Body, Source = ExceptionAlertHandler.InlineFlaggingSourcePrefix + ":" + Name }, ct).ConfigureAwait(false);
            return r.Id;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task FlagInLoopAsync(ReturnContext context, ReturnUnitPlan plan, CancellationToken cancellationToken)
    {
        var failed = plan.Failed;
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.LoopFlag, async ct =>
        {
            try
            {
                await _loop.FlagReturnAsync(context.ReturnId, ct).ConfigureAwait(false);
            }
            catch (LoopActionRejectedException ex)
            {
                // Already flagged (or no longer open): the note still tells the reviewer why.
                LogFlagRefused(_logger, ex, context.ReturnId);
            }

            await _loop.AddReturnNoteAsync(context.ReturnId, FailureNote(failed, plan.Units.Count), ct).ConfigureAwait(false);
            return "flagged";
        }, cancellationToken).ConfigureAwait(false);
        LogFlagged(_logger, context.ReturnId, failed.Count);
    }

    internal static string FailureNote(IReadOnlyList<ReturnUnit> failed, int units)
    {
        var details = string.Join("; ", failed.GroupBy(u => u.LineItemId, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({g.First().Signal}{(string.IsNullOrWhiteSpace(g.First().Note) ? "" : ": " + g.First().Note!.Trim())})"));
        var note = $"LoopFulfil inspection: {failed.Count} of {units} unit(s) failed, return not processed. {details}";
        return note.Length <= MaxNoteChars ? note : note[..(MaxNoteChars - 1)] + "…";
    }

    /// <summary>The Fulfil location code of a target token.</summary>
    internal static string LocationCode(string target, FulfilOptions fo) => target.ToLowerInvariant() switch
    {
        InspectionOptions.Sellable => fo.SellableLocationCode,
        InspectionOptions.Damaged => fo.DamagedLocationCode,
        InspectionOptions.Quarantine => fo.QuarantineLocationCode,
        _ => target,
    };

    [LoggerMessage(EventId = 4621, Level = LogLevel.Information, Message = "Return {ReturnId}: {Units} units moved out of quarantine to {LocationCode} ({Reference}, now: {Created})")]
    private static partial void LogMoved(ILogger logger, string returnId, decimal units, string locationCode, string reference, bool created);

    [LoggerMessage(EventId = 4622, Level = LogLevel.Information, Message = "Return {ReturnId}: every unit passed inspection; Loop asked to process it")]
    private static partial void LogProcessed(ILogger logger, string returnId);

    [LoggerMessage(EventId = 4623, Level = LogLevel.Information, Message = "Return {ReturnId}: {Failed} units failed inspection; flagged in Loop with a note")]
    private static partial void LogFlagged(ILogger logger, string returnId, int failed);

    [LoggerMessage(EventId = 4624, Level = LogLevel.Warning, Message = "Return {ReturnId}: Loop refused the flag; adding the note anyway")]
    private static partial void LogFlagRefused(ILogger logger, Exception exception, string returnId);
}
