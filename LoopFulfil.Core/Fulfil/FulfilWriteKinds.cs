namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// Recognises a Fulfil write by what it makes, for folders that only see a recorded request (shadow mode's plan), so
/// Fulfil's model and method names stay in the Fulfil layer.
/// </summary>
public static class FulfilWriteKinds
{
    /// <summary>The call that makes a return sale from the original sale (<c>sale.sale.return_order</c>).</summary>
    public static bool MakesReturnSale(string model, string method) =>
        model == "sale.sale" && method == "return_order";

    /// <summary>A write on an invoice or credit note (<c>account.invoice</c>).</summary>
    public static bool WritesInvoice(string model) => model == "account.invoice";
}
