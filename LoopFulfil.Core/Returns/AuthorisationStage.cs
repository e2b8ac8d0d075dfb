using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Authorisation: every SKU exists and is active in Fulfil, the original sale is found, and one return order exists
/// for the Loop return's current lines (an edit before receipt replaces it: AuthorisationStage.Edits.cs). Runs for open and review returns, and for a closed
/// return whose return order does not exist yet (a return closed before we saw it created still needs one).
/// </summary>
public sealed partial class AuthorisationStage : IReturnStage
{
    private readonly IFulfilClient _fulfil;
    private readonly FulfilSkuCatalog _catalog;
    private readonly LoopReferences _references;
    private readonly ILogger<AuthorisationStage> _logger;

    public AuthorisationStage(IFulfilClient fulfil, FulfilSkuCatalog catalog, LoopReferences references, ILogger<AuthorisationStage> logger)
    {
        _fulfil = fulfil;
        _catalog = catalog;
        _references = references;
        _logger = logger;
    }

    public int Order => ReturnStageOrder.Authorisation;

    public string Name => "authorisation";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var returnId = context.ReturnId;
        var done = await context.Ledger.GetStepAsync(returnId, ReturnSteps.ReturnOrder, cancellationToken).ConfigureAwait(false);
        if (done is { Status: StepStatus.Done } && int.TryParse(done.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out var recordedId))
        {
            context.ReturnOrderId = await CurrentReturnOrderAsync(context, recordedId, cancellationToken).ConfigureAwait(false);
            var saleStep = await context.Ledger.GetStepAsync(returnId, ReturnSteps.OriginalSale, cancellationToken).ConfigureAwait(false);
            if (saleStep is { Status: StepStatus.Done } && int.TryParse(saleStep.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out var saleId))
            {
                context.OriginalSaleId = saleId;
            }

            return;
        }

        if (context.State is not (ReturnStates.Open or ReturnStates.Review or ReturnStates.Closed))
        {
            // Cancelled/expired before a return order existed: nothing is coming back, nothing to authorise.
            LogSkipped(_logger, returnId, context.State);
            return;
        }

        var units = context.Return.LineItems;
        if (units.Count == 0)
        {
            await context.RaiseAsync(ExceptionCategory.FulfilRejected, $"Return {returnId} has no line items; no return order was created.", Name, cancellationToken, detailKey: "no-lines").ConfigureAwait(false);
            return;
        }

        var products = await ValidateSkusAsync(context, units, cancellationToken).ConfigureAwait(false);
        if (products is null)
        {
            return;
        }

        var sale = await FindSaleAsync(context, cancellationToken).ConfigureAwait(false);
        if (sale is null)
        {
            return;
        }

        if (await AdoptExistingAsync(context, units, sale, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var lines = await MapLinesAsync(context, units, products, sale, cancellationToken).ConfigureAwait(false);
        if (lines is null)
        {
            return;
        }

        var request = new FulfilReturnOrderRequest(sale.Id, returnId, context.References.ReturnOrder(returnId), lines);
        FulfilSale? created = null;
        var step = await context.Ledger.EnsureStepAsync(
            returnId,
            ReturnSteps.ReturnOrder,
            async ct => (await _fulfil.FindReturnOrderAsync(returnId, ct).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async ct =>
            {
                created = await _fulfil.CreateReturnOrderAsync(request, ct).ConfigureAwait(false);
                return created.Id.ToString(CultureInfo.InvariantCulture);
            },
            cancellationToken).ConfigureAwait(false);

        context.ReturnOrderId = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        context.ReturnOrder = created;
        var orderId = step.DocumentId;
        await context.Ledger.EnsureStepAsync(returnId, LinesStep(units), _ => Task.FromResult(orderId), cancellationToken).ConfigureAwait(false);
        LogReturnOrder(_logger, returnId, context.ReturnOrderId.Value, sale.Id, step.Created, lines.Count);
    }

    /// <summary>
    /// docs/accounting.md, documents the existing process already posted: when no return order of ours exists and the
    /// existing process (Fulfil's Shopify channel, or a person) made a return sale on the same order with exactly these
    /// SKUs and quantities, that one becomes this return's return order (recorded in the ledger; nothing is written to
    /// Fulfil), so going live never makes a second one. Its credit note is then adopted by the refunds stage when its
    /// total matches Loop's (else an AmountMismatch for finance).
    /// </summary>
    private async Task<bool> AdoptExistingAsync(ReturnContext context, IReadOnlyList<LoopReturnLineItem> units, FulfilSale sale, CancellationToken cancellationToken)
    {
        var returnId = context.ReturnId;
        if (await _fulfil.FindReturnOrderAsync(returnId, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        var onOrder = await _fulfil.GetReturnSalesAsync([sale.Id], cancellationToken).ConfigureAwait(false);
        // Two Loop returns of the same units on one order must not both adopt one sale (and then one credit note): the
        // sale id is claimed for one return (insert-if-absent); a sale another return holds is passed over.
        FulfilSaleSnapshot? existing = null;
        foreach (var candidate in ExistingProcessDocuments.AdoptableAll(units, onOrder, returnId, _references))
        {
            if (await context.Ledger.ClaimAsync(AdoptedSaleClaim(candidate.Sale.Id), returnId, cancellationToken).ConfigureAwait(false))
            {
                existing = candidate;
                break;
            }

            LogAdoptionTaken(_logger, returnId, candidate.Sale.Id);
        }

        if (existing is null)
        {
            return false;
        }

        var id = existing.Sale.Id.ToString(CultureInfo.InvariantCulture);
        var step = await context.Ledger.EnsureStepAsync(returnId, ReturnSteps.ReturnOrder, _ => Task.FromResult(id), cancellationToken).ConfigureAwait(false);
        context.ReturnOrderId = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        await context.Ledger.EnsureStepAsync(returnId, LinesStep(units), _ => Task.FromResult(step.DocumentId), cancellationToken).ConfigureAwait(false);
        LogAdopted(_logger, returnId, context.ReturnOrderId.Value, sale.Id);
        return true;
    }

    private static string AdoptedSaleClaim(int saleId) => "fulfil-sale:" + saleId.ToString(CultureInfo.InvariantCulture);

    /// <summary>One batched lookup; missing and archived SKUs each become one exception record. Null: stop.</summary>
    private async Task<IReadOnlyDictionary<string, FulfilProduct>?> ValidateSkusAsync(ReturnContext context, IReadOnlyList<LoopReturnLineItem> units, CancellationToken cancellationToken)
    {
        string[] withoutSku = [.. units.Where(u => string.IsNullOrWhiteSpace(u.Sku)).Select(u => u.LineItemId ?? "?").Distinct(StringComparer.Ordinal)];
        if (withoutSku.Length > 0)
        {
            await context.RaiseAsync(
                ExceptionCategory.SkuNotFound,
                $"Return {context.ReturnId} has line items without a SKU ({string.Join(", ", withoutSku)}); they cannot be matched to Fulfil products.",
                Name,
                cancellationToken,
                detailKey: "no-sku").ConfigureAwait(false);
            return null;
        }

        string[] skus = [.. units.Select(u => u.Sku!.Trim()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var products = await _catalog.GetProductsAsync(skus, cancellationToken).ConfigureAwait(false);
        string[] missing = [.. skus.Where(s => !products.ContainsKey(s))];
        string[] archived = [.. skus.Where(s => products.TryGetValue(s, out var p) && !p.Active)];
        if (missing.Length > 0)
        {
            await context.RaiseAsync(
                ExceptionCategory.SkuNotFound,
                $"Return {context.ReturnId}: no Fulfil product has SKU {string.Join(", ", missing)}. Create the product(s); the return is replayed once they exist.",
                Name,
                cancellationToken,
                missing).ConfigureAwait(false);
        }

        if (archived.Length > 0)
        {
            await context.RaiseAsync(
                ExceptionCategory.SkuArchived,
                $"Return {context.ReturnId}: the Fulfil product(s) for SKU {string.Join(", ", archived)} are archived. Re-activate them; the return is replayed once they are active.",
                Name,
                cancellationToken,
                archived).ConfigureAwait(false);
        }

        return missing.Length > 0 || archived.Length > 0 ? null : products;
    }

    private async Task<FulfilSale?> FindSaleAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        var r = context.Return;
        var orderName = r.OrderName ?? string.Empty;
        var sale = orderName.Length == 0 && string.IsNullOrEmpty(r.ProviderOrderId)
            ? null
            : await _fulfil.FindOriginalSaleAsync(orderName, r.ProviderOrderId, cancellationToken).ConfigureAwait(false);
        if (sale is null)
        {
            await context.RaiseAsync(
                ExceptionCategory.OrderNotFound,
                $"Return {context.ReturnId}: no Fulfil sale matches order {(orderName.Length == 0 ? "(no order name)" : orderName)} / provider order id {r.ProviderOrderId ?? "(none)"} (lookup by {context.FulfilOptions.SaleLookup}).",
                Name,
                cancellationToken).ConfigureAwait(false);
            return null;
        }

        context.OriginalSale = sale;
        context.OriginalSaleId = sale.Id;
        var saleId = sale.Id.ToString(CultureInfo.InvariantCulture);
        await context.Ledger.EnsureStepAsync(context.ReturnId, ReturnSteps.OriginalSale, _ => Task.FromResult(saleId), cancellationToken).ConfigureAwait(false);
        return sale;
    }

    /// <summary>
    /// Maps the units to sale lines with <see cref="ReturnLineMatcher"/>, counting what the sale's other return orders
    /// already took from each line (a second return on one order never returns more than was sold). Null: stop.
    /// </summary>
    private async Task<IReadOnlyList<FulfilReturnLineRequest>?> MapLinesAsync(
        ReturnContext context,
        IReadOnlyList<LoopReturnLineItem> units,
        IReadOnlyDictionary<string, FulfilProduct> products,
        FulfilSale sale,
        CancellationToken cancellationToken)
    {
        var earlier = await _fulfil.GetReturnSalesAsync([sale.Id], cancellationToken).ConfigureAwait(false);
        var matched = ReturnLineMatcher.Match(units, products, sale, ReturnLineMatcher.ReturnedByLine(earlier, context.ReturnId));
        if (matched.UnmatchedSkus.Count > 0)
        {
            await context.RaiseAsync(
                ExceptionCategory.OrderNotFound,
                $"Return {context.ReturnId}: Fulfil sale {sale.Id} ({sale.Reference}) has no line for SKU {string.Join(", ", matched.UnmatchedSkus)}.",
                Name,
                cancellationToken,
                detailKey: "lines:" + string.Join(',', matched.UnmatchedSkus)).ConfigureAwait(false);
            return null;
        }

        if (matched.Shortfalls.Count > 0)
        {
            var what = string.Join("; ", matched.Shortfalls.Select(f => $"{f.Wanted.ToString(CultureInfo.InvariantCulture)} unit(s) of {f.Sku} asked, {f.Returnable.ToString(CultureInfo.InvariantCulture)} still returnable"));
            await context.RaiseAsync(
                ExceptionCategory.ReturnStateConflict,
                $"Return {context.ReturnId}: sale {sale.Reference ?? sale.Id.ToString(CultureInfo.InvariantCulture)} has already been returned in part by other returns: {what}. No return order was made; check the returns on this order.",
                Name,
                cancellationToken,
                detailKey: "returnable:" + string.Join(',', matched.Shortfalls.Select(f => f.Sku))).ConfigureAwait(false);
            return null;
        }

        return matched.Lines;
    }

    [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "Return {ReturnId}: return order {ReturnOrderId} against sale {SaleId} (created now: {Created}, {Lines} lines)")]
    private static partial void LogReturnOrder(ILogger logger, string returnId, int returnOrderId, int saleId, bool created, int lines);

    [LoggerMessage(EventId = 4506, Level = LogLevel.Information, Message = "Return {ReturnId}: adopted return sale {ReturnOrderId} on sale {SaleId} that the existing process made (same SKUs and quantities); no second one is made")]
    private static partial void LogAdopted(ILogger logger, string returnId, int returnOrderId, int saleId);

    [LoggerMessage(EventId = 4507, Level = LogLevel.Information, Message = "Return {ReturnId}: the existing process's return sale {FulfilSaleId} is already adopted by another return; not adopted again")]
    private static partial void LogAdoptionTaken(ILogger logger, string returnId, int fulfilSaleId);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Information, Message = "Return {ReturnId}: state {State} needs no return order")]
    private static partial void LogSkipped(ILogger logger, string returnId, string state);
}
