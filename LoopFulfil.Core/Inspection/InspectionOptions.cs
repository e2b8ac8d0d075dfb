namespace LoopFulfil.Core.Inspection;

/// <summary>
/// Where inspected returned goods go (configuration section <c>Inspection</c>). The condition signal of a unit is, in
/// order: the disposition of its inspection (Loop's <c>back_to_stock, resale_hold, recycle, donate, missing</c>), its
/// condition (<c>grade_a…grade_d, incorrect_item, missing, junk</c>), <c>passed</c>/<c>failed</c>, and (for units
/// restocked on close without an inspection) the return reason. <see cref="Destinations"/> maps the signal to a target.
/// </summary>
public sealed class InspectionOptions
{
    public const string Section = "Inspection";

    /// <summary>Target: the sellable location (<c>Fulfil:SellableLocationCode</c>).</summary>
    public const string Sellable = "sellable";

    /// <summary>Target: the damaged location (<c>Fulfil:DamagedLocationCode</c>).</summary>
    public const string Damaged = "damaged";

    /// <summary>Target: stays in quarantine for a person to decide.</summary>
    public const string Quarantine = "quarantine";

    /// <summary>Target: the unit did not arrive; nothing is received or moved for it.</summary>
    public const string Missing = "missing";

    /// <summary>
    /// Signal (case-insensitive) → target: <c>sellable</c>, <c>damaged</c>, <c>quarantine</c>, <c>missing</c>, or any
    /// other Fulfil storage location code (e.g. <c>Inspection__Destinations__grade_c=REFURB</c>). Configuration adds to
    /// or overrides these defaults. A signal not listed stays in quarantine.
    /// </summary>
    public Dictionary<string, string> Destinations { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["back_to_stock"] = Sellable,
        ["grade_a"] = Sellable,
        ["grade_b"] = Sellable,
        ["passed"] = Sellable,
        ["resale_hold"] = Quarantine,
        ["grade_c"] = Quarantine,
        ["incorrect_item"] = Quarantine,
        ["failed"] = Quarantine,
        ["recycle"] = Damaged,
        ["donate"] = Damaged,
        ["junk"] = Damaged,
        ["grade_d"] = Damaged,
        ["missing"] = Missing,
    };

    /// <summary>
    /// When a return closes (or Loop sends <c>restock.requested</c>) and some of its units were never inspected through
    /// LoopFulfil: true treats them as arrived, routed by their return reason (else <c>passed</c>); false leaves them
    /// unreceived until an inspection arrives (warehouses that inspect every return).
    /// </summary>
    public bool RestockUninspectedOnClose { get; set; }

    /// <summary>When every unit passes inspection, ask Loop to process the return (auto-processing off in Loop).</summary>
    public bool ProcessPassedReturnsInLoop { get; set; } = true;

    /// <summary>The target of <paramref name="signal"/>, <see cref="Quarantine"/> when unmapped.</summary>
    public string TargetOf(string? signal) =>
        !string.IsNullOrWhiteSpace(signal) && Destinations.TryGetValue(signal.Trim(), out string? target) && !string.IsNullOrWhiteSpace(target)
            ? target.Trim()
            : Quarantine;
}
