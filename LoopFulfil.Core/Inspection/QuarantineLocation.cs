using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// The warehouse's quarantine as Tryton's customer return flow reaches it: goods come from the customer into the
/// warehouse input, and the return shipment's inventory moves may then go only to a location inside the warehouse's
/// storage or to one of its waste locations. The location is found by <see cref="FulfilOptions.QuarantineLocationCode"/>
/// and must be one of those; nothing is passed to <c>return_order</c> for it.
/// </summary>
/// <param name="InputIsStorage">The warehouse receives straight into storage (no inventory moves; the incoming moves are pointed at quarantine).</param>
public sealed record QuarantineLocation(int Id, string Code, bool InputIsStorage)
{
    private const string Item = "inspection.quarantine";

    /// <summary>Resolves and checks the location once per pass.</summary>
    public static async Task<QuarantineLocation> ResolveAsync(ReturnContext context, IFulfilClient fulfil, IFulfilOutcomesClient outcomes, int returnOrderId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(fulfil);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (context.Items.TryGetValue(Item, out var cached) && cached is QuarantineLocation known)
        {
            return known;
        }

        var fo = context.FulfilOptions;
        var warehouseId = fo.WarehouseId > 0 ? fo.WarehouseId
            : (await fulfil.GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false)).WarehouseId
              ?? throw Problem($"Return order {returnOrderId} names no warehouse and Fulfil:WarehouseId is not set.", "warehouse");
        var flow = await outcomes.GetWarehouseFlowAsync(warehouseId, cancellationToken).ConfigureAwait(false);
        var id = await QuarantineStock.LocationIdAsync(fulfil, fo.QuarantineLocationCode, cancellationToken).ConfigureAwait(false);
        var waste = flow.WasteIds.Contains(id);
        var insideStorage = !waste && flow.StorageId is { } storage && await IsInsideAsync(fulfil, id, storage, cancellationToken).ConfigureAwait(false);
        if (Unfit(id, fo.QuarantineLocationCode, warehouseId, flow, insideStorage) is { } problem)
        {
            throw Problem(problem, "location:" + fo.QuarantineLocationCode);
        }

        var location = new QuarantineLocation(id, fo.QuarantineLocationCode, flow.InputId is not null && flow.InputId == flow.StorageId);
        context.Items[Item] = location;
        return location;
    }

    /// <summary>
    /// Why a location cannot be the warehouse's quarantine, or null when it can: not the storage or input location
    /// (those count as sellable), and a waste location of the warehouse or inside its storage (where Tryton's return
    /// flow may receive). The go-live audit checks the set-up with the same rule.
    /// </summary>
    public static string? Unfit(int id, string code, int warehouseId, FulfilWarehouseFlow flow, bool insideStorage)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (id == flow.StorageId || id == flow.InputId)
        {
            return $"Quarantine location '{code}' is the warehouse's {(id == flow.StorageId ? "storage" : "input")} location: returned goods would count as sellable before inspection.";
        }

        return flow.WasteIds.Contains(id) || insideStorage
            ? null
            : $"Quarantine location '{code}' is neither inside warehouse {warehouseId}'s storage nor one of its waste locations, so its customer return shipments cannot receive into it. Make it a waste location of the warehouse (or a child of storage).";
    }

    private static async Task<bool> IsInsideAsync(IFulfilClient fulfil, int id, int root, CancellationToken cancellationToken)
    {
        var all = await fulfil.GetAllLocationsAsync(cancellationToken).ConfigureAwait(false);
        var parents = all.ToDictionary(l => l.Id, l => l.ParentId);
        // Bounded by the number of locations: a malformed parent cycle cannot loop forever.
        var at = parents.GetValueOrDefault(id);
        for (var hops = 0; at is { } current && hops <= parents.Count; hops++, at = parents.GetValueOrDefault(current))
        {
            if (current == root)
            {
                return true;
            }
        }

        return false;
    }

    private static ReturnStageException Problem(string message, string detailKey) =>
        new(ExceptionCategory.FulfilRejected, message) { DetailKey = detailKey };
}
