using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

// Tryton's rules for where a customer return shipment may put its goods (stock 6.0, ShipmentOutReturn): incoming moves
// (editable while draft) go to the warehouse input, or anywhere under it when input is storage; inventory moves
// (editable while received) go under the warehouse storage or to one of the warehouse's waste locations.
public sealed partial class FulfilSandboxState
{
    private static readonly string[] ReturnShipmentMoveFields = ["incoming_moves", "inventory_moves"];

    /// <summary>
    /// Stock of <paramref name="sku"/> that is available: on hand in the location (children included) less what
    /// assigned moves are taking out of it, as Tryton counts with <c>stock_assign</c>.
    /// </summary>
    public decimal AvailableOf(string sku, string locationCode)
    {
        lock (_gate)
        {
            var product = ProductIdLocked(sku);
            var location = LocationIdLocked(locationCode);
            return OnHand(product, location, true) - AssignedOut(product, location, true);
        }
    }

    /// <summary>What assigned moves take out of the location (Tryton's <c>stock_assign</c> counts them as gone; assigned moves in are not yet there).</summary>
    private decimal AssignedOut(int productId, int locationId, bool withChilds)
    {
        var set = withChilds ? Subtree(locationId) : [locationId];
        var table = Table("stock.move");
        return Children("stock.move", "product", productId).Select(id => table[id])
            .Where(m => Equals(m.GetValueOrDefault("state"), "assigned") && m.GetValueOrDefault("from_location") is int from && set.Contains(from)
                && !(m.GetValueOrDefault("to_location") is int to && set.Contains(to)))
            .Sum(m => (decimal)m.GetValueOrDefault("quantity")!);
    }

    /// <summary>Reserves stock as a confirmed order does: an assigned move from the location to the customer.</summary>
    public void ReserveStock(string sku, string locationCode, decimal quantity)
    {
        lock (_gate)
        {
            Insert("stock.move", new()
            {
                ["product"] = ProductIdLocked(sku), ["uom"] = 1, ["quantity"] = quantity, ["from_location"] = LocationIdLocked(locationCode),
                ["to_location"] = LocationIdLocked(FulfilSandboxDemo.CustomerLocationCode), ["state"] = "assigned", ["company"] = CompanyId,
            });
        }
    }

    private static bool WritesReturnShipmentMoves(string model, Dictionary<string, object?> values) =>
        model == "stock.shipment.out.return" && values.Keys.Any(ReturnShipmentMoveFields.Contains);

    /// <summary><c>write</c> of a return shipment's moves with Tryton's <c>[["write", [ids], {…}]]</c> commands, checked as Tryton checks them.</summary>
    private void WriteReturnShipmentMoves(IReadOnlyList<int> ids, Dictionary<string, object?> values)
    {
        foreach (var id in ids)
        {
            var shipment = Rec("stock.shipment.out.return", id);
            foreach (var (field, value) in values)
            {
                if (!ReturnShipmentMoveFields.Contains(field))
                {
                    throw new SandboxBadRequest($"Field '{field}' cannot be written together with the return shipment's moves here.");
                }

                var incoming = field == "incoming_moves";
                var editableIn = incoming ? "draft" : "received";
                if (!Equals(shipment.GetValueOrDefault("state"), editableIn))
                {
                    throw new SandboxUserError("E_READONLY", $"The {field.Replace('_', ' ')} of customer return shipment {shipment.GetValueOrDefault("number")} can be changed only while it is {editableIn}.");
                }

                var own = ShipmentMoves("stock.shipment.out.return", id, m => Equals(m.GetValueOrDefault("kind"), incoming ? "incoming" : "inventory")).ToHashSet();
                foreach (var command in value as List<object?> ?? throw new SandboxBadRequest($"{field} takes a list of commands."))
                {
                    if (command is not List<object?> { Count: 3 } c || !Equals(c[0], "write") || c[2] is not Dictionary<string, object?> moveValues)
                    {
                        throw new SandboxBadRequest($"{field} accepts only [\"write\", [ids], {{values}}] commands here.");
                    }

                    var moveIds = Ids(c[1]);
                    if (moveIds.Any(m => !own.Contains(m)))
                    {
                        throw new SandboxUserError("E_DOMAIN", $"A move written through {field} is not one of shipment {shipment.GetValueOrDefault("number")}'s {field.Replace('_', ' ')}.");
                    }

                    if (moveValues.GetValueOrDefault("to_location") is { } to)
                    {
                        CheckReturnDestination(shipment, Convert.ToInt32(to, CultureInfo.InvariantCulture), incoming);
                    }

                    Write("stock.move", moveIds, moveValues);
                }
            }
        }
    }

    private void CheckReturnDestination(Dictionary<string, object?> shipment, int to, bool incoming)
    {
        var warehouseId = (int)shipment.GetValueOrDefault("warehouse")!;
        var warehouse = Rec("stock.location", warehouseId);
        var input = (int)warehouse.GetValueOrDefault("input_location")!;
        var storage = (int)warehouse.GetValueOrDefault("storage_location")!;
        var allowed = incoming
            ? (input == storage ? Subtree(input).Contains(to) : to == input)
            : Subtree(storage).Contains(to) || (warehouse.GetValueOrDefault("waste_locations") as List<int> ?? []).Contains(to);
        if (!allowed)
        {
            var code = Rec("stock.location", to).GetValueOrDefault("code");
            throw new SandboxUserError("E_DOMAIN", incoming
                ? $"Incoming moves of a customer return shipment must go to the warehouse input, not to {code}."
                : $"Inventory moves of a customer return shipment must go under the warehouse storage or to one of its waste locations, not to {code}.");
        }
    }
}
