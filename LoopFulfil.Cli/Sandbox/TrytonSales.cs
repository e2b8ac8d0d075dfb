using System.Collections.Concurrent;
using System.Text.Json;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Tryton;

namespace LoopFulfil.Cli.Sandbox;

/// <summary>
/// Web-store orders made in Tryton the way most returns meet them: quoted, confirmed and processed by Tryton, the
/// invoice posted and the goods shipped. Every step is Tryton's own workflow, called through the Fulfil façade. Used
/// by the Tryton tests' harness and by the chaos run on Tryton; look-ups of party, address, product and tax are kept.
/// </summary>
internal sealed class TrytonSales(FulfilHttp tryton, TrytonEngine engine)
{
    /// <summary>The set-up's sales tax (eng/tryton/setup.py), on every line.</summary>
    public const string SalesTax = "Sales tax 10%";

    /// <summary>Its rate, for Loop payloads that carry the tax Tryton charges.</summary>
    public const decimal SalesTaxRate = 0.10m;

    private readonly ConcurrentDictionary<string, (int Party, int Address)> _customers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Id, int Unit)> _products = new(StringComparer.Ordinal);
    private int[]? _taxes;

    /// <summary>
    /// Creates, quotes, confirms and processes a sale with invoice and shipment method "order", posts its invoice and
    /// ships it (assign, pick, pack, done). Returns its id.
    /// </summary>
    public async Task<int> CreateShippedSaleAsync(string reference, string channelIdentifier, string customer, IReadOnlyList<(string Sku, decimal Quantity, decimal Price)> lines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var (party, address) = await CustomerAsync(customer, cancellationToken).ConfigureAwait(false);
        _taxes ??= [.. (await RowsAsync("account.tax", [new object[] { "name", "=", SalesTax }], [], cancellationToken).ConfigureAwait(false)).Select(t => t.GetProperty("id").GetInt32())];
        var saleLines = new List<Dictionary<string, object?>>();
        foreach (var (sku, quantity, price) in lines)
        {
            var (product, unit) = await ProductAsync(sku, cancellationToken).ConfigureAwait(false);
            saleLines.Add(new()
            {
                ["type"] = "line", ["product"] = product, ["unit"] = unit,
                ["quantity"] = new TrytonFloat(quantity), ["unit_price"] = price, ["description"] = sku,
                ["taxes"] = new object[] { new object[] { "add", _taxes } },
            });
        }

        var ids = await tryton.CreateAsync("sale.sale", [new Dictionary<string, object?>
        {
            ["company"] = engine.CompanyId, ["party"] = party, ["invoice_address"] = address, ["shipment_address"] = address, ["reference"] = reference,
            ["channel_identifier"] = channelIdentifier, ["warehouse"] = engine.WarehouseId, ["invoice_method"] = "order", ["shipment_method"] = "order",
            ["lines"] = new object[] { new object[] { "create", saleLines } },
        }], cancellationToken).ConfigureAwait(false);
        var sale = ids[0];
        await tryton.CallAsync("sale.sale", "quote", [new[] { sale }], cancellationToken: cancellationToken).ConfigureAwait(false);
        await tryton.CallAsync("sale.sale", "confirm", [new[] { sale }], cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var invoice in await RowsAsync("account.invoice", [new object[] { "sales", "=", sale }], [], cancellationToken).ConfigureAwait(false))
        {
            await tryton.CallAsync("account.invoice", "post", [new[] { invoice.GetProperty("id").GetInt32() }], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var shipments = (await RowsAsync("sale.sale", [new object[] { "id", "=", sale }], ["shipments"], cancellationToken).ConfigureAwait(false))
            .Single().GetProperty("shipments").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        foreach (var step in new[] { "assign_force", "pick", "pack", "done" })
        {
            await tryton.CallAsync("stock.shipment.out", step, [shipments], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return sale;
    }

    private async Task<(int Party, int Address)> CustomerAsync(string name, CancellationToken cancellationToken)
    {
        if (!_customers.TryGetValue(name, out var found))
        {
            var party = (await RowsAsync("party.party", [new object[] { "name", "=", name }], [], cancellationToken).ConfigureAwait(false)).Single().GetProperty("id").GetInt32();
            var address = (await RowsAsync("party.address", [new object[] { "party", "=", party }], [], cancellationToken).ConfigureAwait(false)).Single().GetProperty("id").GetInt32();
            _customers[name] = found = (party, address);
        }

        return found;
    }

    private async Task<(int Id, int Unit)> ProductAsync(string sku, CancellationToken cancellationToken)
    {
        if (!_products.TryGetValue(sku, out var found))
        {
            var product = (await RowsAsync("product.product", [new object[] { "code", "=", sku }], ["default_uom"], cancellationToken).ConfigureAwait(false)).Single();
            _products[sku] = found = (product.GetProperty("id").GetInt32(), product.GetProperty("default_uom").GetInt32());
        }

        return found;
    }

    private Task<IReadOnlyList<JsonElement>> RowsAsync(string model, object?[] domain, string[] fields, CancellationToken cancellationToken) =>
        tryton.SearchReadAllAsync<JsonElement>(model, domain, ["id", .. fields], cancellationToken: cancellationToken);
}
