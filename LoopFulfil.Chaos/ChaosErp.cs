namespace LoopFulfil.Chaos;

/// <summary>An original order the run's returns are made against, built in the ERP before the first webhook.</summary>
internal sealed record ChaosSale(string OrderName, string ChannelIdentifier, IReadOnlyList<(string Sku, decimal Quantity, decimal Price)> Lines);

/// <summary>One Fulfil document of a return as the ERP holds it: its state and, for money, its amount.</summary>
internal sealed record ChaosDocument(string? State, decimal Amount);

/// <summary>
/// The ERP behind a chaos run (the in-memory Fulfil simulator, or Tryton behind the Fulfil façade), as the driver and
/// the verdict see it: both go through this one interface, so a run's verdict means the same on either.
/// </summary>
internal interface IChaosErp
{
    /// <summary><c>simulator</c> or <c>tryton</c>.</summary>
    string Name { get; }

    /// <summary>The sales tax the ERP charges on the run's orders; Loop's payloads carry the same tax.</summary>
    decimal TaxRate { get; }

    /// <summary>Return shapes this ERP cannot run yet (left out of the mix; docs/benchmarks/chaos.md says why).</summary>
    IReadOnlySet<ChaosKind> Unsupported { get; }

    /// <summary>Creates the original orders (done: invoiced and shipped) and whatever stock the run's exchanges need.</summary>
    Task CreateSalesAsync(IReadOnlyList<ChaosSale> sales, CancellationToken cancellationToken);

    /// <summary>Whether the ERP holds a return order for the Loop return (its channel identifier).</summary>
    Task<bool> HasReturnOrderAsync(string returnId, CancellationToken cancellationToken);

    /// <summary>Return orders for the run (progress lines).</summary>
    Task<int> ReturnOrdersAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken);

    /// <summary>
    /// The ERP's documents for <paramref name="returnIds"/>, by (kind, key): return orders by return id, the rest by
    /// their <c>LOOP-{id}-…</c> reference (kinds in <see cref="ChaosReturns"/>).
    /// </summary>
    Task<IReadOnlyDictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>>> DocumentsAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken);
}
