using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

public sealed partial class FulfilClient
{
    /// <summary>
    /// The customer taxes of each product: those of its accounting category (Tryton 6.0's <c>customer_taxes_used</c>
    /// is a field of <c>product.category</c> only; on products it is a server-side property). A sale line created through
    /// the API gets no taxes of its own (the form's on-change does not run), so without them the exchange sale would
    /// be invoiced without tax while Loop's exchange total includes it. Products without a category get none.
    /// </summary>
    private async Task<Dictionary<int, int[]>> CustomerTaxesAsync(int[] productIds, CancellationToken cancellationToken)
    {
        var products = await _http.SearchReadAllAsync<JsonElement>(Product, [new object[] { "id", "in", productIds.Distinct().ToArray() }, ActiveOrArchived], ["id", "account_category"], cancellationToken: cancellationToken).ConfigureAwait(false);
        var categories = products.Select(p => p.IntOrNull("account_category")).OfType<int>().Distinct().ToArray();
        if (categories.Length == 0)
        {
            return [];
        }

        var taxes = (await _http.SearchReadAllAsync<JsonElement>("product.category", [new object[] { "id", "in", categories }], ["id", "customer_taxes_used"], cancellationToken: cancellationToken).ConfigureAwait(false))
            .ToDictionary(c => c.Id(), c => c.Ids("customer_taxes_used").ToArray());
        return products.Where(p => p.IntOrNull("account_category") is int c && taxes.ContainsKey(c))
            .ToDictionary(p => p.Id(), p => taxes[p.IntOrNull("account_category")!.Value]);
    }

    /// <summary>Adds the taxes to a new line (Tryton's many2many <c>add</c> command), when there are any.</summary>
    private static Dictionary<string, object?> WithTaxes(Dictionary<string, object?> line, int[]? taxes)
    {
        if (taxes is { Length: > 0 })
        {
            line["taxes"] = new object[] { new object[] { "add", taxes } };
        }

        return line;
    }
}
