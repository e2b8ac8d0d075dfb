namespace LoopFulfil.Core.Fulfil;

// Exchange sales orders: create (the caller looks up first), then quote and confirm only the steps still missing.
public sealed partial class FulfilClient
{
    public async Task<FulfilSale> CreateSaleOrderAsync(FulfilSaleOrderRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ChannelIdentifier);
        if (request.Lines.Count == 0 || request.Lines.Any(l => l.Quantity <= 0 || l.UnitPrice < 0))
        {
            throw new FulfilRequestException($"Sales order {request.Reference} needs lines with positive quantities and non-negative prices.");
        }

        // Tryton requires a sale line's unit; the product's default unit is what the storefront sold in.
        var units = await DefaultUnitsAsync(request.Lines.Select(l => l.ProductId).ToArray(), cancellationToken).ConfigureAwait(false);
        var taxes = await CustomerTaxesAsync(request.Lines.Select(l => l.ProductId).ToArray(), cancellationToken).ConfigureAwait(false);
        var lines = request.Lines.Select(l => WithTaxes(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["type"] = "line",
            ["product"] = l.ProductId,
            ["unit"] = units.GetValueOrDefault(l.ProductId),
            ["quantity"] = new TrytonFloat(l.Quantity),
            ["unit_price"] = l.UnitPrice,
            ["description"] = l.Description,
        }, taxes.GetValueOrDefault(l.ProductId))).ToList();
        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["company"] = _options.CompanyId,
            ["reference"] = request.Reference,
            ["channel_identifier"] = request.ChannelIdentifier,
            ["party"] = request.PartyId,
            ["sale_date"] = request.SaleDate,
            ["description"] = request.Description,
            ["warehouse"] = _options.WarehouseId,
            ["priority"] = request.Priority ?? _options.ExchangePriority,
            ["lines"] = new object[] { new object[] { "create", lines } },
        };
        if ((request.ChannelId ?? _options.ExchangeChannelId) is { } channel)
        {
            record["channel"] = channel;
        }

        if (request.ShipmentAddressId is { } shipTo)
        {
            record["shipment_address"] = shipTo;
        }

        if (request.InvoiceAddressId is { } billTo)
        {
            record["invoice_address"] = billTo;
        }

        var ids = await _http.CreateAsync(Sale, [record], cancellationToken).ConfigureAwait(false);
        return await GetSaleAsync(ids[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilSale> QuoteSaleOrderAsync(int saleId, CancellationToken cancellationToken = default)
    {
        var sale = await GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
        if (sale.State != "draft")
        {
            return sale;
        }

        await _http.CallAsync(Sale, "quote", [new[] { saleId }], cancellationToken: cancellationToken).ConfigureAwait(false);
        return await GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilSale> ConfirmSaleOrderAsync(int saleId, CancellationToken cancellationToken = default)
    {
        var sale = await QuoteSaleOrderAsync(saleId, cancellationToken).ConfigureAwait(false);
        switch (sale.State)
        {
            case "quotation":
                await _http.CallAsync(Sale, "confirm", [new[] { saleId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                return await GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
            case "confirmed":
            case "processing":
            case "done":
                return sale;
            default:
                throw new FulfilRequestException($"Sales order {sale.Reference ?? FulfilRows.Text(saleId)} is {sale.State}; it cannot be confirmed.");
        }
    }
}
