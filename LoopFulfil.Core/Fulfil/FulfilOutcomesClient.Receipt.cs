using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Customer return receipts into quarantine through Tryton's own return shipment flow (money-semantics.md, part C):
// customer → warehouse input (incoming moves), then input → a location of the warehouse (inventory moves, editable
// while the shipment is received: a child of storage or one of the warehouse's waste locations).
public sealed partial class FulfilOutcomesClient
{
    private static readonly string[] ShipmentMoveFields = ["id", "number", "state", "incoming_moves", "inventory_moves"];

    public async Task<FulfilWarehouseFlow> GetWarehouseFlowAsync(int warehouseId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(
            "stock.location", [new object[] { "id", "=", warehouseId }], 0, 1, ["id", "type", "input_location", "storage_location", "waste_locations"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0 || rows[0].Str("type") != "warehouse")
        {
            throw new FulfilNotFoundException($"Fulfil has no warehouse stock.location {Text(warehouseId)} (check Fulfil:WarehouseId).");
        }

        var w = rows[0];
        return new FulfilWarehouseFlow(warehouseId, w.IntOrNull("input_location"), w.IntOrNull("storage_location"), w.Ids("waste_locations"));
    }

    public async Task<FulfilReturnShipmentMoves> ReceiveIntoAsync(int shipmentId, int locationId, bool inputIsStorage, CancellationToken cancellationToken)
    {
        // draft → received → done; at most one transition per pass, each decided from the state just read.
        for (var pass = 0; pass < 4; pass++)
        {
            var shipment = await ReadShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
            switch (shipment.State)
            {
                case "done":
                    return shipment;
                case "draft":
                    if (inputIsStorage)
                    {
                        await PointAtAsync(shipmentId, "incoming_moves", shipment.IncomingMoves, locationId, cancellationToken).ConfigureAwait(false);
                    }

                    await _http.CallAsync(ReturnShipment, "receive", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "received":
                    await PointAtAsync(shipmentId, "inventory_moves", shipment.InventoryMoves, locationId, cancellationToken).ConfigureAwait(false);
                    await _http.CallAsync(ReturnShipment, "done", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new FulfilRequestException($"Customer return shipment {shipment.Number ?? Text(shipmentId)} is {shipment.State}; it cannot be received.");
            }
        }

        var final = await ReadShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
        return final.State == "done" ? final : throw new FulfilRequestException($"Customer return shipment {final.Number ?? Text(shipmentId)} stayed {final.State} after receive and done.");
    }

    /// <summary>
    /// Written through the shipment, not on the moves, so Tryton checks its own domain of the shipment's moves (a
    /// location outside the warehouse's storage and waste locations is refused there, not accepted silently).
    /// </summary>
    private async Task PointAtAsync(int shipmentId, string field, IReadOnlyList<FulfilStockMove> moves, int locationId, CancellationToken cancellationToken)
    {
        int[] redirect = [.. moves.Where(m => m.State == "draft" && m.ToLocationId != locationId).Select(m => m.Id)];
        if (redirect.Length > 0)
        {
            var values = new Dictionary<string, object?>(StringComparer.Ordinal) { ["to_location"] = locationId };
            await _http.WriteAsync(ReturnShipment, [shipmentId], new Dictionary<string, object?>(StringComparer.Ordinal) { [field] = new object[] { new object[] { "write", redirect, values } } }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<FulfilReturnShipmentMoves> ReadShipmentAsync(int shipmentId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(ReturnShipment, [new object[] { "id", "=", shipmentId }], 0, 1, ShipmentMoveFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            throw new FulfilNotFoundException($"Fulfil has no {ReturnShipment} {Text(shipmentId)}.");
        }

        return (await WithMovesAsync(rows, cancellationToken).ConfigureAwait(false))[0];
    }
}
