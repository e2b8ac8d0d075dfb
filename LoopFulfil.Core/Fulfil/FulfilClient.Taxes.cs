using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

public sealed partial class FulfilClient
{
    /// <summary>
    /// The customer taxes of each product (Tryton's <c>customer_taxes_used</c>: the product's, else its category's).
    /// A sale line created through the API gets no taxes of its own (the form's on-change does not run), so the
    /// exchange sale would be invoiced without tax while Loop's exchange total includes it.
    /// </summary>
    private async Task<Dictionary<int, int[]>> CustomerTaxesAsync(int[] productIds, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(Product, [new object[] { "id", "in", productIds.Distinct().ToArray() }, ActiveOrArchived], ["id", "customer_taxes_used"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id(), r => r.Ids("customer_taxes_used").ToArray());
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
