using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Reads shared by the roles: products by SKU and sales with their lines (the original sale of a Loop order).
public sealed partial class FulfilClient
{
    private static readonly string[] ProductFields = ["id", "code", "rec_name", "variant_name", "active", "template", "list_price", "write_date"];
    private static readonly string[] LineFields = ["id", "sale", "product", "product.code", "quantity", "unit_price", "channel_identifier", "description"];

    public async Task<IReadOnlyList<FulfilProduct>> GetProductsBySkusAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(skus);
        var distinct = skus.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0)
        {
            return [];
        }

        var rows = await _http.SearchReadAllAsync<JsonElement>(Product, [new object[] { "code", "in", distinct }, ActiveOrArchived], ProductFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Select(ToProduct).ToList();
    }

    public async Task<FulfilSale> GetSaleAsync(int saleId, CancellationToken cancellationToken = default)
    {
        var sales = await SearchSalesAsync([new object[] { "id", "=", saleId }], cancellationToken).ConfigureAwait(false);
        return sales.Count == 1 ? sales[0] : throw new FulfilNotFoundException($"Fulfil has no sale.sale {saleId}.");
    }

    public async Task<FulfilSale?> FindSaleByReferenceAsync(string reference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        // A return order may repeat the original's reference; the original is the older record.
        var sales = await SearchSalesAsync([new object[] { "reference", "=", reference }], cancellationToken).ConfigureAwait(false);
        return sales.Count == 0 ? null : sales[0];
    }

    public async Task<FulfilSale?> FindSaleByChannelIdentifierAsync(string channelIdentifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelIdentifier);
        var sales = await SearchSalesAsync([new object[] { "channel_identifier", "=", channelIdentifier }], cancellationToken).ConfigureAwait(false);
        return sales.Count == 0 ? null : sales[0];
    }

    public Task<FulfilSale?> FindOriginalSaleAsync(string orderName, string? providerOrderId, CancellationToken cancellationToken = default) =>
        _options.SaleLookup == FulfilSaleLookup.ProviderOrderId && !string.IsNullOrEmpty(providerOrderId)
            ? FindSaleByChannelIdentifierAsync(providerOrderId, cancellationToken)
            : FindSaleByReferenceAsync(orderName, cancellationToken);

    private async Task<IReadOnlyList<FulfilSale>> SearchSalesAsync(IReadOnlyList<object?> domain, CancellationToken cancellationToken)
    {
        string[] fields = ["id", "reference", "number", "state", "party", "shipment_address", "invoice_address", "channel", "channel_identifier", "priority", "warehouse", "sale_date", "total_amount", _options.ReturnShipmentsField];
        var rows = await _http.SearchReadAllAsync<JsonElement>(Sale, domain, fields, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return [];
        }

        var lineRows = await _http.SearchReadAllAsync<JsonElement>(SaleLine, [new object[] { "sale", "in", rows.Select(r => r.Id()).ToArray() }], LineFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        var linesBySale = lineRows.ToLookup(r => r.IntOrNull("sale"));
        return rows.Select(r => new FulfilSale(
            r.Id(),
            r.Str("reference"),
            r.Str("number"),
            r.Str("state") ?? "",
            r.IntOrNull("party"),
            r.IntOrNull("shipment_address"),
            r.IntOrNull("invoice_address"),
            r.IntOrNull("channel"),
            r.Str("channel_identifier"),
            r.Str("priority"),
            r.IntOrNull("warehouse"),
            r.Date("sale_date"),
            r.DecOrNull("total_amount"),
            linesBySale[r.Id()].Select(ToSaleLine).ToList(),
            r.Ids(_options.ReturnShipmentsField))).ToList();
    }

    private async Task<Dictionary<int, int>> DefaultUnitsAsync(int[] productIds, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(Product, [new object[] { "id", "in", productIds.Distinct().ToArray() }, ActiveOrArchived], ["id", "default_uom"], cancellationToken: cancellationToken).ConfigureAwait(false);
        var missing = productIds.Except(rows.Select(r => r.Id())).ToArray();
        if (missing.Length > 0)
        {
            throw new FulfilRequestException($"Fulfil has no product.product {string.Join(", ", missing)}.");
        }

        return rows.Where(r => r.IntOrNull("default_uom") is not null).ToDictionary(r => r.Id(), r => r.IntOrNull("default_uom")!.Value);
    }

    private static FulfilProduct ToProduct(JsonElement r) =>
        new(r.Id(), r.Str("code") ?? "", r.Str("variant_name") ?? r.Str("rec_name"), r.Bool("active", true), r.IntOrNull("template"), r.DecOrNull("list_price"), r.DateTime("write_date"));

    private static FulfilSaleLine ToSaleLine(JsonElement r) =>
        new(r.Id(), r.IntOrNull("product"), r.Str("product.code"), r.Dec("quantity"), r.Dec("unit_price"), r.Str("channel_identifier"), r.Str("description"));
}
