namespace LoopFulfil.Core.Inspection;

/// <summary>
/// Where inspected returned goods go (configuration section <c>Inspection</c>). The condition signal of a unit is, in
/// order: the disposition of its inspection (Loop's <c>back_to_stock, resale_hold, recycle, donate, missing</c>), its
/// condition (<c>grade_a…grade_d, incorrect_item, missing, junk</c>), or <c>passed</c>/<c>failed</c>.
/// <see cref="Destinations"/> maps the signal to a target. Goods are received into quarantine as soon as the parcel
/// is known to have arrived (an inspection, a label status in <see cref="ReceivedLabelStatuses"/>, or the settings
/// below); an inspection verdict is the only way out of quarantine.
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
    /// <c>label_status</c> values (from <c>label.created</c>/<c>label.updated</c>, or the return's own label fields)
    /// that mean the parcel reached the warehouse, comma-separated. Loop documents that the label webhook reports status
    /// changes ("new → in transit …"); the name of the final status is not documented, so it is a setting.
    /// Case-insensitive; empty: labels never count as arrival.
    /// </summary>
    public string ReceivedLabelStatuses { get; set; } = "delivered";

    /// <summary>
    /// <c>restock.requested</c> counts as the parcel having arrived (Loop sends it when the return is processed and
    /// asks for the goods to be restocked): the units are received into quarantine and wait there for an inspection;
    /// it never moves anything to sellable stock.
    /// </summary>
    public bool ReceiveOnRestockRequested { get; set; } = true;

    /// <summary>
    /// A return Loop closed counts as the parcel having arrived (for warehouses that process returns in Loop only once
    /// the goods are in hand). The units are received into quarantine; an inspection is still the only way out.
    /// </summary>
    public bool ReceiveOnClose { get; set; }

    /// <summary>When every unit passes inspection, ask Loop to process the return (auto-processing off in Loop).</summary>
    public bool ProcessPassedReturnsInLoop { get; set; } = true;

    /// <summary>True when <paramref name="labelStatus"/> is one of <see cref="ReceivedLabelStatuses"/>.</summary>
    public bool MeansReceived(string? labelStatus) =>
        !string.IsNullOrWhiteSpace(labelStatus)
        && (ReceivedLabelStatuses ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Contains(labelStatus.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The target of <paramref name="signal"/>, <see cref="Quarantine"/> when unmapped.</summary>
    public string TargetOf(string? signal) =>
        !string.IsNullOrWhiteSpace(signal) && Destinations.TryGetValue(signal.Trim(), out var target) && !string.IsNullOrWhiteSpace(target)
            ? target.Trim()
            : Quarantine;
}
