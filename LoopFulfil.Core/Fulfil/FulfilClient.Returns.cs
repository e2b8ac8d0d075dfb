using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Return orders and their customer return shipments (receive into storage).
public sealed partial class FulfilClient
{
    private static readonly string[] ShipmentReturnFields = ["id", "number", "reference", "state", "warehouse"];

    public Task<FulfilSale?> FindReturnOrderAsync(string loopReturnId, CancellationToken cancellationToken = default) =>
        FindSaleByChannelIdentifierAsync(loopReturnId, cancellationToken);

    public async Task<FulfilSale> CreateReturnOrderAsync(FulfilReturnOrderRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.LoopReturnId);
        if (request.Lines.Count == 0 || request.Lines.Any(l => l.Quantity <= 0))
        {
            throw new FulfilRequestException($"Return {request.LoopReturnId} needs at least one line and positive quantities.");
        }

        var args = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["channel_identifier"] = request.LoopReturnId,
            ["warehouse"] = _options.WarehouseId,
            ["lines"] = request.Lines.Select(ReturnLine).ToList(),
        };
        if (!string.IsNullOrEmpty(request.Reference))
        {
            args["reference"] = request.Reference;
        }

        var result = await _http.CallOnRecordAsync(Sale, request.OriginalSaleId, "return_order", [args], cancellationToken).ConfigureAwait(false);

        // The answer's shape is undocumented; an id is used when present, otherwise the idempotency key finds the order.
        if (result.ValueKind is JsonValueKind.Number or JsonValueKind.Array or JsonValueKind.Object)
        {
            var ids = FulfilHttp.ExtractIds(result);
            if (ids.Count > 0)
            {
                return await GetSaleAsync(ids[0], cancellationToken).ConfigureAwait(false);
            }
        }

        return await FindReturnOrderAsync(request.LoopReturnId, cancellationToken).ConfigureAwait(false)
            ?? throw new FulfilRequestException($"Fulfil accepted return_order for Loop return {request.LoopReturnId} but no return order carries it.");

        static Dictionary<string, object?> ReturnLine(FulfilReturnLineRequest line)
        {
            var l = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["order_line_id"] = line.OrderLineId,
                ["return_quantity"] = new TrytonFloat(line.Quantity),
                ["channel_identifier"] = line.LoopLineId,
            };
            if (line.UnitPrice is { } price)
            {
                l["unit_price"] = price;
            }

            if (!string.IsNullOrEmpty(line.Reason))
            {
                l["return_reason"] = line.Reason;
            }

            if (!string.IsNullOrEmpty(line.Note))
            {
                l["note"] = line.Note;
            }

            return l;
        }
    }

    public async Task<FulfilSale> CancelReturnOrderAsync(int returnOrderId, CancellationToken cancellationToken = default)
    {
        var sale = await GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (sale.State == "cancelled")
        {
            return sale;
        }

        await _http.CallOnRecordAsync(Sale, returnOrderId, "cancel", [], cancellationToken).ConfigureAwait(false);
        sale = await GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (sale.State != "cancelled")
        {
            // Tryton cancels only draft and quoted sales; a processing return order is undone by cancelling the
            // documents it made, each with its own workflow: the draft return shipments and draft credit notes.
            var drafts = sale.ReturnShipmentIds.Count == 0 ? [] : await _http.SearchReadAllAsync<JsonElement>(ReturnShipment, [new object[] { "id", "in", sale.ReturnShipmentIds }, new object[] { "state", "=", "draft" }], ["id"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (drafts.Count > 0)
            {
                await _http.CallAsync(ReturnShipment, "cancel", [drafts.Select(r => r.Id()).ToArray()], cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var notes = await _http.SearchReadAllAsync<JsonElement>(Invoice, [new object[] { "sales", "=", returnOrderId }, new object[] { "state", "=", "draft" }], ["id"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (notes.Count > 0)
            {
                await _http.CallAsync(Invoice, "cancel", [notes.Select(r => r.Id()).ToArray()], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        return sale;
    }

    public async Task<IReadOnlyList<FulfilCustomerReturnShipment>> GetCustomerReturnShipmentsAsync(int returnOrderId, CancellationToken cancellationToken = default)
    {
        var sale = await GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        if (sale.ReturnShipmentIds.Count == 0)
        {
            return [];
        }

        var rows = await _http.SearchReadAllAsync<JsonElement>(ReturnShipment, [new object[] { "id", "in", sale.ReturnShipmentIds }], ShipmentReturnFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Select(ToReturnShipment).ToList();
    }

    public async Task<FulfilCustomerReturnShipment> ReceiveCustomerReturnShipmentAsync(int shipmentId, CancellationToken cancellationToken = default)
    {
        // draft → received (incoming moves done) → done (inventory moves into the destination done).
        for (var step = 0; step < 3; step++)
        {
            var shipment = await GetReturnShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
            switch (shipment.State)
            {
                case "done":
                    return shipment;
                case "draft":
                    await _http.CallAsync(ReturnShipment, "receive", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "received":
                    await _http.CallAsync(ReturnShipment, "done", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new FulfilRequestException($"Customer return shipment {shipmentId} is {shipment.State}; it cannot be received.");
            }
        }

        var final = await GetReturnShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
        return final.State == "done" ? final : throw new FulfilRequestException($"Customer return shipment {shipmentId} stayed {final.State} after receive and done.");
    }

    private async Task<FulfilCustomerReturnShipment> GetReturnShipmentAsync(int id, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(ReturnShipment, [new object[] { "id", "=", id }], 0, 1, ShipmentReturnFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? ToReturnShipment(rows[0]) : throw new FulfilNotFoundException($"Fulfil has no {ReturnShipment} {id}.");
    }

    private static FulfilCustomerReturnShipment ToReturnShipment(JsonElement r) =>
        new(r.Id(), r.Str("number"), r.Str("reference"), r.Str("state") ?? "", r.IntOrNull("warehouse"));

    public async Task<FulfilSale> SupersedeReturnOrderAsync(int returnOrderId, string supersededIdentifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(supersededIdentifier);
        var sale = await GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        // Renamed before the cancel: a cancelled record can no longer be written.
        if (!string.Equals(sale.ChannelIdentifier, supersededIdentifier, StringComparison.Ordinal) && sale.State != "cancelled")
        {
            await _http.WriteAsync(Sale, [returnOrderId], new Dictionary<string, object?>(StringComparer.Ordinal) { ["channel_identifier"] = supersededIdentifier }, cancellationToken).ConfigureAwait(false);
        }

        return await CancelReturnOrderAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
    }
}
