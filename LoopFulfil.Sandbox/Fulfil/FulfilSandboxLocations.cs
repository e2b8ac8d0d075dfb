namespace LoopFulfil.Sandbox.Fulfil;

public sealed partial class FulfilSandboxState
{
    /// <summary>
    /// Adds a lost-and-found location under <paramref name="warehouseId"/> and makes it one of the warehouse's waste
    /// locations: the quarantine of the Tryton set-up (eng/tryton/setup.py). Returns its id.
    /// </summary>
    public int AddWasteLocation(int warehouseId, string code, string name)
    {
        lock (_gate)
        {
            var id = Insert("stock.location", new() { ["name"] = name, ["code"] = code, ["type"] = "lost_found", ["parent"] = warehouseId });
            var warehouse = Table("stock.location")[warehouseId];
            warehouse["waste_locations"] = new List<int>((warehouse.GetValueOrDefault("waste_locations") as List<int>) ?? []) { id };
            return id;
        }
    }
}
