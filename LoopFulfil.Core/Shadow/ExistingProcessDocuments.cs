using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// The adoption rule of docs/accounting.md ("Documents the existing process already posted"): a return sale on the
/// same original order that LoopFulfil did not make, not cancelled, whose products and quantities are exactly the Loop
/// return's units, is that return's return order made by the existing process. Going live adopts it instead of making a
/// second one; the shadow report counts it as matched.
/// </summary>
public static class ExistingProcessDocuments
{
    /// <summary>Return sales on the order that another process made (not this return's, not one LoopFulfil superseded or made for another return (its reference prefix), not cancelled).</summary>
    public static IReadOnlyList<FulfilSaleSnapshot> OtherProcess(IEnumerable<FulfilSaleSnapshot> returnSales, string loopReturnId, LoopReferences references)
    {
        ArgumentNullException.ThrowIfNull(returnSales);
        ArgumentNullException.ThrowIfNull(references);
        return [.. returnSales.Where(r =>
            r.Sale.State is not ("cancel" or "cancelled")
            && !string.Equals(r.Sale.ChannelIdentifier, loopReturnId, StringComparison.Ordinal)
            && !(r.Sale.ChannelIdentifier ?? "").Contains(ReturnLineMatcher.SupersededMarker, StringComparison.Ordinal)
            && r.Sale.Reference?.StartsWith(references.Prefix, StringComparison.Ordinal) != true)];
    }

    /// <summary>The other-process return sale with exactly the return's SKUs and quantities, or null (the oldest wins a tie).</summary>
    public static FulfilSaleSnapshot? Adoptable(IReadOnlyList<LoopReturnLineItem> units, IEnumerable<FulfilSaleSnapshot> returnSales, string loopReturnId, LoopReferences references) =>
        AdoptableAll(units, returnSales, loopReturnId, references) is [var first, ..] ? first : null;

    /// <summary>Every other-process return sale with exactly the return's SKUs and quantities, oldest first (adoption claims the first one no other return holds).</summary>
    public static IReadOnlyList<FulfilSaleSnapshot> AdoptableAll(IReadOnlyList<LoopReturnLineItem> units, IEnumerable<FulfilSaleSnapshot> returnSales, string loopReturnId, LoopReferences references)
    {
        ArgumentNullException.ThrowIfNull(units);
        var wanted = Units(units);
        return [.. OtherProcess(returnSales, loopReturnId, references).OrderBy(r => r.Sale.Id).Where(r => SameUnits(wanted, Units(r.Sale)))];
    }

    /// <summary>Units per SKU of the Loop return (one line item is one unit).</summary>
    public static IReadOnlyDictionary<string, decimal> Units(IReadOnlyList<LoopReturnLineItem> units) =>
        units.Where(u => !string.IsNullOrWhiteSpace(u.Sku)).GroupBy(u => u.Sku!.Trim(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => (decimal)g.Count(), StringComparer.Ordinal);

    /// <summary>Units per product code of a return sale (its quantities are negative in Tryton).</summary>
    public static IReadOnlyDictionary<string, decimal> Units(FulfilSale sale)
    {
        ArgumentNullException.ThrowIfNull(sale);
        return sale.Lines.Where(l => l.ProductCode is not null).GroupBy(l => l.ProductCode!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(l => Math.Abs(l.Quantity)), StringComparer.Ordinal);
    }

    public static bool SameUnits(IReadOnlyDictionary<string, decimal> a, IReadOnlyDictionary<string, decimal> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var q) && q == kv.Value);
    }
}
