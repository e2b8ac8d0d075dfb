using System.Globalization;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Matches a Loop return's units (one line item per unit) to the lines of the original Fulfil sale. Pure: the same
/// units, sale and earlier returns always give the same lines.
/// </summary>
public static class ReturnLineMatcher
{
    /// <summary>Marks a return order replaced by a newer one for the same Loop return (its quantities no longer count).</summary>
    public const string SupersededMarker = "~superseded~";

    /// <summary>What could not be matched: SKUs with no sale line, or units beyond what is still returnable.</summary>
    public sealed record Shortfall(string Sku, decimal Wanted, decimal Returnable);

    public sealed record Result(IReadOnlyList<FulfilReturnLineRequest> Lines, IReadOnlyList<string> UnmatchedSkus, IReadOnlyList<Shortfall> Shortfalls)
    {
        public bool Ok => UnmatchedSkus.Count == 0 && Shortfalls.Count == 0;
    }

    /// <summary>
    /// Quantity already taken from each original sale line by return orders that still stand: not cancelled, not
    /// withdrawn (every return shipment cancelled: a Loop return cancelled after authorisation, whose sale Tryton
    /// keeps processing), not superseded, and not the order of <paramref name="ownLoopReturnId"/> (its own lines are
    /// being decided).
    /// </summary>
    public static IReadOnlyDictionary<int, decimal> ReturnedByLine(IEnumerable<FulfilSaleSnapshot> returnOrders, string ownLoopReturnId)
    {
        ArgumentNullException.ThrowIfNull(returnOrders);
        var returned = new Dictionary<int, decimal>();
        foreach (var r in returnOrders)
        {
            var ci = r.Sale.ChannelIdentifier ?? string.Empty;
            if (!r.Stands || ci.Contains(SupersededMarker, StringComparison.Ordinal) || string.Equals(ci, ownLoopReturnId, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var line in r.Sale.Lines)
            {
                if (r.OriginLineBySaleLine.TryGetValue(line.Id, out var origin))
                {
                    returned[origin] = returned.GetValueOrDefault(origin) + Math.Abs(line.Quantity);
                }
            }
        }

        return returned;
    }

    /// <summary>
    /// Units are grouped by (platform order line, SKU). Each group goes first to the sale line Loop names: the
    /// platform line id is the Fulfil sale line id when the order reached Loop through the commerce push (it sends
    /// <c>sale.line</c> ids as line external ids), or the line's <c>channel_identifier</c> when it came from the shop.
    /// What that line cannot take (its quantity less earlier returns) goes to other lines of the same product, in order.
    /// </summary>
    public static Result Match(IReadOnlyList<LoopReturnLineItem> units, IReadOnlyDictionary<string, FulfilProduct> products, FulfilSale sale, IReadOnlyDictionary<int, decimal> returnedByLine)
    {
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(products);
        ArgumentNullException.ThrowIfNull(sale);
        ArgumentNullException.ThrowIfNull(returnedByLine);
        var remaining = sale.Lines.Where(l => l.Quantity > 0).ToDictionary(l => l.Id, l => Math.Max(0m, l.Quantity - returnedByLine.GetValueOrDefault(l.Id)));
        var byLine = new SortedDictionary<int, (decimal Quantity, List<string> LoopIds, string? Reason, decimal Net)>();
        var unmatched = new List<string>();
        var shortfalls = new List<Shortfall>();
        var groups = units
            .GroupBy(u => (Provider: (u.ProviderLineItemId ?? string.Empty).Trim(), Sku: (u.Sku ?? string.Empty).Trim()))
            .OrderBy(g => g.Key.Sku, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Provider, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            if (!products.TryGetValue(group.Key.Sku, out var product))
            {
                unmatched.Add(group.Key.Sku);
                continue;
            }

            FulfilSaleLine[] candidates = [.. sale.Lines.Where(l => l.Quantity > 0 && (l.ProductId == product.Id || string.Equals(l.ProductCode, product.Sku, StringComparison.Ordinal)))
                .OrderBy(l => Names(l, group.Key.Provider) ? 0 : 1)
                .ThenBy(l => l.Id)];
            if (candidates.Length == 0)
            {
                unmatched.Add(group.Key.Sku);
                continue;
            }

            // One unit at a time, in Loop's order, so each line knows which Loop line items it carries.
            foreach (var unit in group)
            {
                var line = candidates.FirstOrDefault(l => remaining[l.Id] >= 1m);
                if (line is null)
                {
                    shortfalls.Add(new Shortfall(group.Key.Sku, group.Count(), candidates.Sum(l => remaining[l.Id])));
                    break;
                }

                remaining[line.Id] -= 1m;
                (decimal Quantity, List<string> LoopIds, string? Reason, decimal Net) entry = byLine.TryGetValue(line.Id, out var existing) ? existing : (0m, new List<string>(), unit.ReturnReason, 0m);
                entry.Quantity += 1m;
                entry.Net += unit.Price - unit.Discount;
                if (unit.LineItemId is { } id)
                {
                    entry.LoopIds.Add(id);
                }

                byLine[line.Id] = entry;
            }
        }

        IReadOnlyList<FulfilReturnLineRequest> lines = [.. byLine.Select(kv => new FulfilReturnLineRequest(
            kv.Key,
            kv.Value.Quantity,
            // Fulfil's own credit note of the return sale then credits what Loop values (p − d), not the sale price.
            UnitPrice: decimal.Round(kv.Value.Net / kv.Value.Quantity, 4, MidpointRounding.AwayFromZero),
            LoopLineId: string.Join(',', kv.Value.LoopIds.Distinct(StringComparer.Ordinal)),
            Reason: kv.Value.Reason))];
        return new Result(lines, [.. unmatched.Distinct(StringComparer.Ordinal)], shortfalls);
    }

    /// <summary>Order-independent key of the lines a return order carries (origin line → quantity).</summary>
    public static string Key(IEnumerable<(int OriginLine, decimal Quantity)> lines) =>
        string.Join(';', lines.GroupBy(l => l.OriginLine).OrderBy(g => g.Key)
            .Select(g => g.Key.ToString(CultureInfo.InvariantCulture) + "x" + g.Sum(l => l.Quantity).ToString("0.####", CultureInfo.InvariantCulture)));

    private static bool Names(FulfilSaleLine line, string provider) =>
        provider.Length > 0
        && (string.Equals(line.Id.ToString(CultureInfo.InvariantCulture), provider, StringComparison.Ordinal)
            || string.Equals(line.ChannelIdentifier, provider, StringComparison.Ordinal));
}
