namespace LoopFulfil.Core.Fulfil;

/// <summary>The record sets the commerce push walks, named by what they hold rather than by Tryton model.</summary>
public enum FulfilCommerceSet
{
    /// <summary>Product templates (Loop products), active or archived.</summary>
    ProductTemplates,

    /// <summary>Product variants (Loop variants), active or archived.</summary>
    Variants,

    /// <summary>Parties (Loop customers), active or archived.</summary>
    Parties,

    /// <summary>
    /// Confirmed, processing, done or cancelled sales dated on or after <see cref="FulfilCommerceChanges.SalesFrom"/>,
    /// return orders included; each stamp's <see cref="FulfilStamp.Ref"/> is the sale a return order returns.
    /// </summary>
    Sales,

    /// <summary>Stock moves; each stamp's <see cref="FulfilStamp.Ref"/> is the moved product.</summary>
    StockMoves,
}

/// <summary>One keyset page of <see cref="Set"/> stamped after <see cref="After"/> by (<see cref="Stamp"/>, id).</summary>
public sealed record FulfilCommerceChanges(FulfilCommerceSet Set, FulfilCursor? After, int Limit, FulfilStampField Stamp, DateOnly? SalesFrom = null);

/// <summary>
/// Typed reads for the commerce push (Fulfil → Loop): the Tryton models, domains and location semantics behind the
/// walks live here, so the commerce sync names only what it wants.
/// </summary>
public sealed class FulfilCommerceQueries
{
    private static readonly object[] ActiveOrArchived = ["active", "in", new[] { true, false }];
    private static readonly string[] OrderStates = ["confirmed", "processing", "done", "cancel", "cancelled"];

    private readonly IFulfilClient _fulfil;
    private readonly FulfilOptions _options;

    public FulfilCommerceQueries(IFulfilClient fulfil, FulfilOptions options)
    {
        ArgumentNullException.ThrowIfNull(fulfil);
        ArgumentNullException.ThrowIfNull(options);
        _fulfil = fulfil;
        _options = options;
    }

    /// <summary>One page of the set, oldest stamp first.</summary>
    public Task<IReadOnlyList<FulfilStamp>> GetChangesAsync(FulfilCommerceChanges changes, CancellationToken cancellationToken) =>
        _fulfil.GetModifiedAsync(ToQuery(changes), cancellationToken);

    /// <summary>How many records of the set lie after the cursor (for progress).</summary>
    public Task<int> CountChangesAsync(FulfilCommerceChanges changes, CancellationToken cancellationToken) =>
        _fulfil.CountModifiedAsync(ToQuery(changes), cancellationToken);

    /// <summary>Whether the sale is not confirmed yet (Loop never holds such orders).</summary>
    public static bool IsUnconfirmed(FulfilSale sale)
    {
        ArgumentNullException.ThrowIfNull(sale);
        return sale.State is "draft" or "quotation";
    }

    /// <summary>Whether the location is a warehouse (Loop location).</summary>
    public static bool IsWarehouse(FulfilLocationNode location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Type == "warehouse";
    }

    /// <summary>
    /// The warehouse's sellable root (its storage location) and the non-sellable roots inside it: quarantine,
    /// damaged and lost-and-found locations, outermost only so nothing is subtracted twice.
    /// </summary>
    public (int Storage, IReadOnlyList<int> Excluded) SellableRoots(IReadOnlyList<FulfilLocationNode> locations, FulfilLocationNode warehouse)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(warehouse);
        var storage = warehouse.StorageLocationId ?? warehouse.Id;
        var parents = locations.ToDictionary(l => l.Id, l => l.ParentId);
        var codes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { _options.QuarantineLocationCode, _options.DamagedLocationCode };
        bool Within(int id, int root)
        {
            for (int? at = id; at is { } current; at = parents.GetValueOrDefault(current))
            {
                if (current == root)
                {
                    return true;
                }
            }

            return false;
        }

        var candidates = locations
            .Where(l => l.Id != storage && (codes.Contains(l.Code) || l.Type == "lost_found") && Within(l.Id, storage))
            .Select(l => l.Id)
            .ToList();
        return (storage, candidates.Where(c => !candidates.Any(o => o != c && Within(c, o))).ToList());
    }

    private FulfilModifiedQuery ToQuery(FulfilCommerceChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return changes.Set switch
        {
            FulfilCommerceSet.ProductTemplates => new("product.template", changes.After, changes.Limit, [ActiveOrArchived], null, changes.Stamp),
            FulfilCommerceSet.Variants => new("product.product", changes.After, changes.Limit, [ActiveOrArchived], null, changes.Stamp),
            FulfilCommerceSet.Parties => new("party.party", changes.After, changes.Limit, [ActiveOrArchived], null, changes.Stamp),
            FulfilCommerceSet.Sales => new(
                "sale.sale",
                changes.After,
                changes.Limit,
                [new object[] { "sale_date", ">=", changes.SalesFrom ?? throw new ArgumentException("A sales walk needs its first sale date.", nameof(changes)) }, new object[] { "state", "in", OrderStates }],
                _options.ReturnOriginSaleField,
                changes.Stamp),
            FulfilCommerceSet.StockMoves => new("stock.move", changes.After, changes.Limit, null, "product", changes.Stamp),
            _ => throw new ArgumentOutOfRangeException(nameof(changes), changes.Set, "Unknown commerce record set."),
        };
    }
}
