using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Inspection;

/// <summary>What is known about one returned unit (Loop sends one line item per unit).</summary>
/// <param name="Decided">True when the unit's fate is known: inspected, restock-requested by Loop, or (configured) closed.</param>
/// <param name="Target">One of the <see cref="InspectionOptions"/> targets or a Fulfil location code.</param>
/// <param name="Inspected">True when a LoopFulfil inspection covers it.</param>
public sealed record ReturnUnit(string LineItemId, string Sku, string? Signal, string Target, bool Decided, bool Inspected, bool Passed, string? Note)
{
    /// <summary>Decided and physically there (anything but <see cref="InspectionOptions.Missing"/>).</summary>
    public bool Arrived => Decided && !string.Equals(Target, InspectionOptions.Missing, StringComparison.OrdinalIgnoreCase);

    /// <summary>Leaves quarantine once received.</summary>
    public bool LeavesQuarantine => Arrived && !string.Equals(Target, InspectionOptions.Quarantine, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The fate of every unit of a return, worked out from the stored inspections, Loop's restock requests and the
/// return's state. Receipt and restock act on it only when <see cref="CanReceive"/>: nothing leaves quarantine while
/// the verdict is open (some units undecided, or a failed unit on a return Loop has not closed).
/// </summary>
public sealed class ReturnUnitPlan
{
    private ReturnUnitPlan(IReadOnlyList<ReturnUnit> units, bool closed, bool hasInspection)
    {
        Units = units;
        IsClosed = closed;
        HasInspection = hasInspection;
    }

    public IReadOnlyList<ReturnUnit> Units { get; }

    public bool IsClosed { get; }

    /// <summary>At least one LoopFulfil inspection was submitted for the return.</summary>
    public bool HasInspection { get; }

    /// <summary>Every unit's fate is known.</summary>
    public bool IsComplete => Units.Count > 0 && Units.All(u => u.Decided);

    /// <summary>Every unit was inspected and passed.</summary>
    public bool AllPassed => Units.Count > 0 && Units.All(u => u.Inspected && u.Passed);

    public IReadOnlyList<ReturnUnit> Failed => [.. Units.Where(u => u.Inspected && !u.Passed)];

    /// <summary>
    /// Goods may be received and moved: the fate of every unit is known and either nothing failed or Loop closed the
    /// return (a person resolved the flagged return).
    /// </summary>
    public bool CanReceive => IsComplete && (Failed.Count == 0 || IsClosed) && Units.Any(u => u.Arrived);

    /// <summary>Arrived units per SKU.</summary>
    public IReadOnlyDictionary<string, int> ArrivedBySku => Units.Where(u => u.Arrived).GroupBy(u => u.Sku, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>
    /// Builds the plan. Inspections: a later submission's lines for a line id replace earlier ones; one inspection for
    /// a repeated line id covers all its units, several cover that many units in order.
    /// </summary>
    public static ReturnUnitPlan Build(
        LoopReturn snapshot,
        string normalisedState,
        IReadOnlyList<InspectionSubmission> submissions,
        IReadOnlyList<LoopRestockEvent> restocks,
        InspectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var latest = new Dictionary<string, List<LineInspection>>(StringComparer.Ordinal);
        foreach (InspectionSubmission s in submissions)
        {
            foreach (IGrouping<string, LineInspection> g in s.Lines.GroupBy(l => l.LineItemId, StringComparer.Ordinal))
            {
                latest[g.Key] = [.. g];
            }
        }

        // Loop's restock instructions name variants; each adjustment unit decides one uninspected unit of that variant.
        var restockBudget = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (LoopRestockItem item in restocks.SelectMany(r => r.RestockItems))
        {
            if (!string.IsNullOrEmpty(item.VariantId) && item.AvailableAdjustment > 0)
            {
                restockBudget[item.VariantId] = Math.Max(restockBudget.GetValueOrDefault(item.VariantId), item.AvailableAdjustment);
            }
        }

        bool closed = normalisedState == ReturnStates.Closed;
        var units = new List<ReturnUnit>(snapshot.LineItems.Count);
        var seenPerId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (LoopReturnLineItem line in snapshot.LineItems)
        {
            string id = line.LineItemId ?? string.Empty;
            string sku = (line.Sku ?? string.Empty).Trim();
            int index = seenPerId[id] = seenPerId.GetValueOrDefault(id) + 1;
            LineInspection? inspection = null;
            if (latest.TryGetValue(id, out List<LineInspection>? verdicts))
            {
                inspection = verdicts.Count == 1 ? verdicts[0] : index <= verdicts.Count ? verdicts[index - 1] : null;
            }

            if (inspection is not null)
            {
                units.Add(new ReturnUnit(id, sku, inspection.Signal, options.TargetOf(inspection.Signal), Decided: true, Inspected: true, inspection.Passed, inspection.Note));
            }
            else if (!string.IsNullOrEmpty(line.VariantId) && restockBudget.TryGetValue(line.VariantId, out int left) && left > 0)
            {
                restockBudget[line.VariantId] = left - 1;
                units.Add(new ReturnUnit(id, sku, "back_to_stock", options.TargetOf("back_to_stock"), Decided: true, Inspected: false, Passed: true, null));
            }
            else if (closed && options.RestockUninspectedOnClose)
            {
                string signal = !string.IsNullOrWhiteSpace(line.ReturnReason) && options.Destinations.ContainsKey(line.ReturnReason.Trim()) ? line.ReturnReason.Trim() : "passed";
                units.Add(new ReturnUnit(id, sku, signal, options.TargetOf(signal), Decided: true, Inspected: false, Passed: true, null));
            }
            else
            {
                units.Add(new ReturnUnit(id, sku, null, InspectionOptions.Quarantine, Decided: false, Inspected: false, Passed: false, null));
            }
        }

        return new ReturnUnitPlan(units, closed, latest.Count > 0);
    }
}
