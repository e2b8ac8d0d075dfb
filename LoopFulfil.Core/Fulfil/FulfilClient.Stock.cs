using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Stock: internal shipments between locations, stock levels and locations.
public sealed partial class FulfilClient
{
    private static readonly string[] InternalShipmentFields = ["id", "reference", "number", "state", "from_location", "to_location"];

    public async Task<FulfilInternalShipment?> FindInternalShipmentAsync(string reference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var rows = await _http.SearchReadAsync<JsonElement>(InternalShipment, [new object[] { "reference", "=", reference }, new object[] { "state", "!=", "cancelled" }], 0, 1, InternalShipmentFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : ToInternalShipment(rows[0]);
    }

    public async Task<FulfilInternalShipment> CreateInternalShipmentAsync(FulfilInternalShipmentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Reference);
        if (request.Moves.Count == 0 || request.Moves.Any(m => m.Quantity <= 0))
        {
            throw new FulfilRequestException($"Internal shipment {request.Reference} needs at least one move and positive quantities.");
        }

        var units = await DefaultUnitsAsync(request.Moves.Select(m => m.ProductId).ToArray(), cancellationToken).ConfigureAwait(false);
        var moves = request.Moves.Select(m =>
        {
            var move = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["product"] = m.ProductId,
                ["quantity"] = new TrytonFloat(m.Quantity),
                ["from_location"] = request.FromLocationId,
                ["to_location"] = request.ToLocationId,
                ["company"] = _options.CompanyId,
            };
            if (units.TryGetValue(m.ProductId, out var unit))
            {
                move[_options.MoveUnitField] = unit;
            }

            return move;
        }).ToList();
        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["reference"] = request.Reference,
            ["from_location"] = request.FromLocationId,
            ["to_location"] = request.ToLocationId,
            ["company"] = _options.CompanyId,
            // Equal planned dates keep Tryton from routing the goods through a transit location (which would need ship).
            ["planned_date"] = request.PlannedDate,
            ["planned_start_date"] = request.PlannedDate,
            ["moves"] = new object[] { new object[] { "create", moves } },
        };
        var ids = await _http.CreateAsync(InternalShipment, [record], cancellationToken).ConfigureAwait(false);
        return await GetInternalShipmentAsync(ids[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilInternalShipment> CompleteInternalShipmentAsync(int shipmentId, CancellationToken cancellationToken = default)
    {
        for (var step = 0; step < 4; step++)
        {
            var shipment = await GetInternalShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
            switch (shipment.State)
            {
                case "done":
                    return shipment;
                case "draft":
                case "request":
                    await _http.CallAsync(InternalShipment, "wait", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "waiting":
                    var assigned = await _http.CallAsync(InternalShipment, "assign_try", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (assigned.ValueKind == JsonValueKind.False)
                    {
                        throw new FulfilStockUnavailableException($"Internal shipment {shipment.Reference ?? FulfilRows.Text(shipmentId)}: location {shipment.FromLocationId} does not hold enough stock for its moves.");
                    }

                    break;
                case "assigned":
                    await _http.CallAsync(InternalShipment, "done", [new[] { shipmentId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new FulfilRequestException($"Internal shipment {shipmentId} is {shipment.State}; it cannot be completed.");
            }
        }

        var final = await GetInternalShipmentAsync(shipmentId, cancellationToken).ConfigureAwait(false);
        return final.State == "done" ? final : throw new FulfilRequestException($"Internal shipment {shipmentId} stayed {final.State}.");
    }

    public async Task<FulfilInternalShipment> TransferStockAsync(FulfilInternalShipmentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var shipment = await FindInternalShipmentAsync(request.Reference, cancellationToken).ConfigureAwait(false)
            ?? await CreateInternalShipmentAsync(request, cancellationToken).ConfigureAwait(false);
        return await CompleteInternalShipmentAsync(shipment.Id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FulfilStockLevel>> GetStockAsync(IReadOnlyCollection<int> productIds, IReadOnlyCollection<int> locationIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(productIds);
        ArgumentNullException.ThrowIfNull(locationIds);
        if (productIds.Count == 0 || locationIds.Count == 0)
        {
            return [];
        }

        // Tryton computes product.quantity for the locations in the context; one call per location keeps the
        // figures per location instead of summed. stock_assign counts assigned outgoing moves as gone: stock promised
        // to orders is not available (issue #15 item 8).
        var levels = new List<FulfilStockLevel>();
        foreach (var location in locationIds.Distinct())
        {
            var context = new Dictionary<string, object?>(StringComparer.Ordinal) { ["locations"] = new[] { location }, ["with_childs"] = true, ["stock_assign"] = true };
            var rows = await _http.SearchReadAllAsync<JsonElement>(Product, [new object[] { "id", "in", productIds.Distinct().ToArray() }, ActiveOrArchived], ["id", "code", "quantity"], context, cancellationToken: cancellationToken).ConfigureAwait(false);
            levels.AddRange(rows.Select(r => new FulfilStockLevel(r.Id(), r.Str("code") ?? "", location, r.Dec("quantity"))));
        }

        return levels;
    }

    public async Task<IReadOnlyList<FulfilLocation>> GetLocationsByCodesAsync(IReadOnlyCollection<string> codes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Count == 0)
        {
            return [];
        }

        var rows = await _http.SearchReadAllAsync<JsonElement>("stock.location", [new object[] { "code", "in", codes.Distinct().ToArray() }], ["id", "code", "name", "type", "parent"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new FulfilLocation(r.Id(), r.Str("code") ?? "", r.Str("name") ?? "", r.Str("type") ?? "", r.IntOrNull("parent"))).ToList();
    }

    private async Task<FulfilInternalShipment> GetInternalShipmentAsync(int id, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(InternalShipment, [new object[] { "id", "=", id }], 0, 1, InternalShipmentFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? ToInternalShipment(rows[0]) : throw new FulfilNotFoundException($"Fulfil has no {InternalShipment} {id}.");
    }

    private static FulfilInternalShipment ToInternalShipment(JsonElement r) =>
        new(r.Id(), r.Str("reference"), r.Str("number"), r.Str("state") ?? "", r.IntOrNull("from_location") ?? 0, r.IntOrNull("to_location") ?? 0);
}
