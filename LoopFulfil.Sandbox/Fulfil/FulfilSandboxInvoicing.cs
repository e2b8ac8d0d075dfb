using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

// Invoices and taxes as Tryton has them. Taxes: a sale line and an invoice line carry taxes (many2many account.tax); an invoice's tax
// is computed from its lines' taxes, so a credit-note line without the sale line's taxes is visibly untaxed
// (tax_amount 0) rather than silently right. Percentage taxes only, rounded per tax over the document.
public sealed partial class FulfilSandboxState
{
    /// <summary>Adds a percentage tax (e.g. 0.10) and returns its id.</summary>
    public int AddTax(string name, decimal rate)
    {
        lock (_gate)
        {
            return Insert("account.tax", new() { ["name"] = name, ["rate"] = rate, ["account"] = null });
        }
    }

    /// <summary>Adds an account to the chart (e.g. a rounding account a merchant configures).</summary>
    public int AddAccount(string code, string name, string type)
    {
        lock (_gate)
        {
            return Insert("account.account", new() { ["code"] = code, ["name"] = name, ["type"] = type });
        }
    }

    /// <summary>Posts an invoice as Fulfil would on its own (an automatic posting, or someone posting it by hand).</summary>
    public void PostInvoice(int invoiceId)
    {
        lock (_gate)
        {
            InvoicePost(invoiceId);
        }
    }

    /// <summary>Adds a line without product to an invoice (e.g. someone editing a draft credit note by hand in Fulfil).</summary>
    public int AddInvoiceLine(int invoiceId, string description, decimal quantity, decimal unitPrice)
    {
        lock (_gate)
        {
            _ = Rec("account.invoice", invoiceId);
            return Insert("account.invoice.line", new() { ["invoice"] = invoiceId, ["type"] = "line", ["description"] = description, ["quantity"] = quantity, ["unit_price"] = unitPrice });
        }
    }

    /// <summary>Empties an invoice's reference (a credit note Fulfil posted itself before LoopFulfil could write its reference).</summary>
    public void ClearInvoiceReference(int invoiceId)
    {
        lock (_gate)
        {
            Rec("account.invoice", invoiceId)["reference"] = null;
        }
    }

    /// <summary>Puts <paramref name="taxIds"/> on every line of the sale (as the product's customer taxes would).</summary>
    public void SetSaleTaxes(int saleId, params int[] taxIds)
    {
        ArgumentNullException.ThrowIfNull(taxIds);
        lock (_gate)
        {
            foreach (var line in Children("sale.line", "sale", saleId))
            {
                Rec("sale.line", line)["taxes"] = taxIds.ToList();
            }
        }
    }

    private static List<int> TaxesOf(Dictionary<string, object?> line) => [.. line.GetValueOrDefault("taxes") as List<int> ?? []];

    /// <summary>A many2many value: Tryton commands (<c>[["add",[ids]]]</c>) or a plain id list.</summary>
    private static List<int> TaxIds(string model, string field, object value)
    {
        if (value is List<int> ids)
        {
            return [.. ids];
        }

        if (value is not List<object?> list)
        {
            throw new SandboxBadRequest($"{model}.{field} takes a list of commands such as [[\"add\", [ids]]].");
        }

        var result = new List<int>();
        foreach (var item in list)
        {
            switch (item)
            {
                case long or int:
                    result.Add(Convert.ToInt32(item, CultureInfo.InvariantCulture));
                    break;
                case List<object?> { Count: 2 } c when Equals(c[0], "add") && c[1] is List<object?> added:
                    result.AddRange(added.Select(a => Convert.ToInt32(a, CultureInfo.InvariantCulture)));
                    break;
                default:
                    throw new SandboxBadRequest($"Only the 'add' command is supported on {model}.{field}.");
            }
        }

        return result;
    }

    private decimal TaxAmount(IEnumerable<Dictionary<string, object?>> lines)
    {
        var perTax = new Dictionary<int, decimal>();
        foreach (var line in lines)
        {
            foreach (var tax in TaxesOf(line))
            {
                if (!Table("account.tax").TryGetValue(tax, out var record))
                {
                    throw new SandboxUserError("E_TAX", $"Tax {tax} does not exist.");
                }

                perTax[tax] = perTax.GetValueOrDefault(tax) + (LineAmount(line) * (record.GetValueOrDefault("rate") as decimal? ?? 0m));
            }
        }

        return perTax.Values.Sum(v => decimal.Round(v, 2, MidpointRounding.AwayFromZero));
    }

    private decimal TotalWithTax(IEnumerable<Dictionary<string, object?>> lines)
    {
        var list = lines.ToList();
        return list.Sum(LineAmount) + TaxAmount(list);
    }

    /// <summary>The company's receivable (Tryton's default receivable of a party without its own).</summary>
    private int? ReceivableAccountLocked() =>
        Table("account.account").FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("type"), "receivable")).Key is var id && id != 0 ? id : null;
}
