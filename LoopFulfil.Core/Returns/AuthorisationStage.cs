using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Authorisation: every SKU exists and is active in Fulfil, the original sale is found, and one return order exists
/// for the Loop return with its goods destined for quarantine. Runs for open and review returns, and for a closed
/// return whose return order does not exist yet (a return closed before we saw it created still needs one).
/// </summary>
public sealed partial class AuthorisationStage : IReturnStage
{
    private readonly IFulfilClient fulfil;
    private readonly FulfilSkuCatalog catalog;
    private readonly ILogger<AuthorisationStage> logger;

    public AuthorisationStage(IFulfilClient fulfil, FulfilSkuCatalog catalog, ILogger<AuthorisationStage> logger)
    {
        this.fulfil = fulfil;
        this.catalog = catalog;
        this.logger = logger;
    }

    public int Order => ReturnStageOrder.Authorisation;

    public string Name => "authorisation";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string returnId = context.ReturnId;
        StepRecord? done = await context.Ledger.GetStepAsync(returnId, ReturnSteps.ReturnOrder, cancellationToken).ConfigureAwait(false);
        if (done is { Status: StepStatus.Done } && int.TryParse(done.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out int recordedId))
        {
            context.ReturnOrderId = recordedId;
            StepRecord? saleStep = await context.Ledger.GetStepAsync(returnId, ReturnSteps.OriginalSale, cancellationToken).ConfigureAwait(false);
            if (saleStep is { Status: StepStatus.Done } && int.TryParse(saleStep.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out int saleId))
            {
                context.OriginalSaleId = saleId;
            }

            return;
        }

        if (context.State is not (ReturnStates.Open or ReturnStates.Review or ReturnStates.Closed))
        {
            // Cancelled/expired before a return order existed: nothing is coming back, nothing to authorise.
            LogSkipped(logger, returnId, context.State);
            return;
        }

        IReadOnlyList<LoopReturnLineItem> units = context.Return.LineItems;
        if (units.Count == 0)
        {
            await context.RaiseAsync(ExceptionCategory.FulfilRejected, $"Return {returnId} has no line items; no return order was created.", Name, cancellationToken, detailKey: "no-lines").ConfigureAwait(false);
            return;
        }

        IReadOnlyDictionary<string, FulfilProduct>? products = await ValidateSkusAsync(context, units, cancellationToken).ConfigureAwait(false);
        if (products is null)
        {
            return;
        }

        FulfilSale? sale = await FindSaleAsync(context, cancellationToken).ConfigureAwait(false);
        if (sale is null)
        {
            return;
        }

        IReadOnlyList<FulfilReturnLineRequest>? lines = await MapLinesAsync(context, units, products, sale, cancellationToken).ConfigureAwait(false);
        if (lines is null)
        {
            return;
        }

        var request = new FulfilReturnOrderRequest(sale.Id, returnId, context.Options.ReturnOrderReferencePrefix + returnId, lines);
        FulfilSale? created = null;
        StepResult step = await context.Ledger.EnsureStepAsync(
            returnId,
            ReturnSteps.ReturnOrder,
            async ct => (await fulfil.FindReturnOrderAsync(returnId, ct).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async ct =>
            {
                created = await fulfil.CreateReturnOrderAsync(request, ct).ConfigureAwait(false);
                return created.Id.ToString(CultureInfo.InvariantCulture);
            },
            cancellationToken).ConfigureAwait(false);

        context.ReturnOrderId = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        context.ReturnOrder = created;
        LogReturnOrder(logger, returnId, context.ReturnOrderId.Value, sale.Id, step.Created, lines.Count);
    }

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
        IReadOnlyDictionary<string, FulfilProduct> products = await catalog.GetProductsAsync(skus, cancellationToken).ConfigureAwait(false);
        string[] missing = [.. skus.Where(s => !products.ContainsKey(s))];
        string[] archived = [.. skus.Where(s => products.TryGetValue(s, out FulfilProduct? p) && !p.Active)];
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
        LoopReturn r = context.Return;
        string orderName = r.OrderName ?? string.Empty;
        FulfilSale? sale = orderName.Length == 0 && string.IsNullOrEmpty(r.ProviderOrderId)
            ? null
            : await fulfil.FindOriginalSaleAsync(orderName, r.ProviderOrderId, cancellationToken).ConfigureAwait(false);
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
        string saleId = sale.Id.ToString(CultureInfo.InvariantCulture);
        await context.Ledger.EnsureStepAsync(context.ReturnId, ReturnSteps.OriginalSale, _ => Task.FromResult(saleId), cancellationToken).ConfigureAwait(false);
        return sale;
    }

    /// <summary>
    /// Loop sends one line item per unit. Units are grouped by (platform order line, SKU) and each group goes to one sale
    /// line: the one whose channel_identifier is that platform line, else the first line of the same product with
    /// enough quantity left, else the first line of the product (Fulfil then judges the quantity). Null: stop.
    /// </summary>
    private async Task<IReadOnlyList<FulfilReturnLineRequest>?> MapLinesAsync(
        ReturnContext context,
        IReadOnlyList<LoopReturnLineItem> units,
        IReadOnlyDictionary<string, FulfilProduct> products,
        FulfilSale sale,
        CancellationToken cancellationToken)
    {
        var remaining = sale.Lines.Where(l => l.Quantity > 0).ToDictionary(l => l.Id, l => l.Quantity);
        var byLine = new Dictionary<int, (decimal Quantity, List<string> LoopIds, string? Reason, decimal Net)>();
        var unmatched = new List<string>();
        var groups = units
            .GroupBy(u => (Provider: u.ProviderLineItemId ?? string.Empty, Sku: u.Sku!.Trim()))
            .OrderBy(g => g.Key.Sku, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Provider, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            FulfilProduct product = products[group.Key.Sku];
            decimal quantity = group.Count();
            FulfilSaleLine[] candidates = [.. sale.Lines.Where(l => l.Quantity > 0 && (l.ProductId == product.Id || string.Equals(l.ProductCode, product.Sku, StringComparison.Ordinal)))];
            FulfilSaleLine? line =
                candidates.FirstOrDefault(l => group.Key.Provider.Length > 0 && string.Equals(l.ChannelIdentifier, group.Key.Provider, StringComparison.Ordinal))
                ?? candidates.FirstOrDefault(l => remaining[l.Id] >= quantity)
                ?? candidates.FirstOrDefault();
            if (line is null)
            {
                unmatched.Add(group.Key.Sku);
                continue;
            }

            remaining[line.Id] -= quantity;
            (decimal Quantity, List<string> LoopIds, string? Reason, decimal Net) entry = byLine.TryGetValue(line.Id, out var existing) ? existing : (0m, new List<string>(), group.First().ReturnReason, 0m);
            entry.Quantity += quantity;
            entry.Net += group.Sum(u => u.Price - u.Discount);
            entry.LoopIds.AddRange(group.Select(u => u.LineItemId).OfType<string>());
            byLine[line.Id] = entry;
        }

        if (unmatched.Count > 0)
        {
            string[] skus = [.. unmatched.Distinct(StringComparer.Ordinal)];
            await context.RaiseAsync(
                ExceptionCategory.OrderNotFound,
                $"Return {context.ReturnId}: Fulfil sale {sale.Id} ({sale.Reference}) has no line for SKU {string.Join(", ", skus)}.",
                Name,
                cancellationToken,
                detailKey: "lines:" + string.Join(',', skus)).ConfigureAwait(false);
            return null;
        }

        return [.. byLine.OrderBy(kv => kv.Key).Select(kv => new FulfilReturnLineRequest(
            kv.Key,
            kv.Value.Quantity,
            // Fulfil's own credit note of the return sale then credits what Loop values (p − d), not the sale price.
            UnitPrice: decimal.Round(kv.Value.Net / kv.Value.Quantity, 4, MidpointRounding.AwayFromZero),
            LoopLineId: string.Join(',', kv.Value.LoopIds.Distinct(StringComparer.Ordinal)),
            Reason: kv.Value.Reason))];
    }

    [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "Return {ReturnId}: return order {ReturnOrderId} against sale {SaleId} (created now: {Created}, {Lines} lines)")]
    private static partial void LogReturnOrder(ILogger logger, string returnId, int returnOrderId, int saleId, bool created, int lines);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Information, Message = "Return {ReturnId}: state {State} needs no return order")]
    private static partial void LogSkipped(ILogger logger, string returnId, string state);
}
