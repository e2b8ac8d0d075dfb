using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Inspection;

/// <summary>What is known about one returned unit (Loop sends one line item per unit).</summary>
/// <param name="Decided">True when an inspection gave the unit a verdict (the only thing that lets it leave quarantine).</param>
/// <param name="Target">One of the <see cref="InspectionOptions"/> targets or a Fulfil location code.</param>
/// <param name="Inspected">True when a LoopFulfil inspection covers it (same as <paramref name="Decided"/>).</param>
public sealed record ReturnUnit(string LineItemId, string Sku, string? Signal, string Target, bool Decided, bool Inspected, bool Passed, string? Note)
{
    /// <summary>Inspected and reported missing: nothing arrived for it.</summary>
    public bool Missing => Decided && string.Equals(Target, InspectionOptions.Missing, StringComparison.OrdinalIgnoreCase);

    /// <summary>Decided and physically there (anything but <see cref="InspectionOptions.Missing"/>).</summary>
    public bool Arrived => Decided && !Missing;

    /// <summary>Leaves quarantine once received.</summary>
    public bool LeavesQuarantine => Arrived && !string.Equals(Target, InspectionOptions.Quarantine, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The state of every unit of a return, worked out from the stored inspections, Loop's label, restock and state
/// signals. Two separate questions: has the parcel arrived (<see cref="ParcelArrived"/>: receive what came into
/// quarantine now, whether or not it was inspected), and may units leave quarantine (<see cref="CanLeaveQuarantine"/>:
/// only on an inspection verdict for every unit, and with a failed unit only once Loop closed the return).
/// </summary>
public sealed class ReturnUnitPlan
{
    private ReturnUnitPlan(IReadOnlyList<ReturnUnit> units, bool closed, bool hasInspection, string? arrivalSignal)
    {
        Units = units;
        IsClosed = closed;
        HasInspection = hasInspection;
        ArrivalSignal = arrivalSignal;
    }

    public IReadOnlyList<ReturnUnit> Units { get; }

    public bool IsClosed { get; }

    /// <summary>At least one LoopFulfil inspection was submitted for the return.</summary>
    public bool HasInspection { get; }

    /// <summary>What said the parcel arrived (<c>inspection</c>, <c>label:delivered</c>, <c>restock.requested</c>, <c>closed</c>), or null.</summary>
    public string? ArrivalSignal { get; }

    /// <summary>The parcel is at the warehouse: its units belong in quarantine.</summary>
    public bool ParcelArrived => ArrivalSignal is not null;

    /// <summary>Every unit has an inspection verdict.</summary>
    public bool IsComplete => Units.Count > 0 && Units.All(u => u.Decided);

    /// <summary>Every unit was inspected and passed.</summary>
    public bool AllPassed => Units.Count > 0 && Units.All(u => u.Inspected && u.Passed);

    public IReadOnlyList<ReturnUnit> Failed => [.. Units.Where(u => u.Inspected && !u.Passed)];

    /// <summary>Units to receive into quarantine: once the parcel arrived, every unit not inspected as missing.</summary>
    public IReadOnlyList<ReturnUnit> ToReceive => ParcelArrived ? [.. Units.Where(u => !u.Missing)] : [];

    /// <summary>
    /// Units may leave quarantine: every unit has a verdict and either nothing failed or Loop closed the return (a
    /// person resolved the flagged return).
    /// </summary>
    public bool CanLeaveQuarantine => IsComplete && (Failed.Count == 0 || IsClosed) && Units.Any(u => u.Arrived);

    /// <summary>Units to receive per SKU.</summary>
    public IReadOnlyDictionary<string, int> ToReceiveBySku => ToReceive.GroupBy(u => u.Sku, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>
    /// Builds the plan. Inspections: a later submission's lines for a line id replace earlier ones; one inspection for
    /// a repeated line id covers all its units, several cover that many units in order. <paramref name="labelStatuses"/>
    /// are the statuses of the return's label events.
    /// </summary>
    public static ReturnUnitPlan Build(
        LoopReturn snapshot,
        string normalisedState,
        IReadOnlyList<InspectionSubmission> submissions,
        IReadOnlyList<string?> labelStatuses,
        bool restockRequested,
        InspectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(labelStatuses);
        ArgumentNullException.ThrowIfNull(options);
        var latest = new Dictionary<string, List<LineInspection>>(StringComparer.Ordinal);
        foreach (var s in submissions)
        {
            foreach (var g in s.Lines.GroupBy(l => l.LineItemId, StringComparer.Ordinal))
            {
                latest[g.Key] = [.. g];
            }
        }

        var closed = normalisedState == ReturnStates.Closed;
        var units = new List<ReturnUnit>(snapshot.LineItems.Count);
        var seenPerId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in snapshot.LineItems)
        {
            var id = line.LineItemId ?? string.Empty;
            var sku = (line.Sku ?? string.Empty).Trim();
            var index = seenPerId[id] = seenPerId.GetValueOrDefault(id) + 1;
            LineInspection? inspection = null;
            if (latest.TryGetValue(id, out var verdicts))
            {
                inspection = verdicts.Count == 1 ? verdicts[0] : index <= verdicts.Count ? verdicts[index - 1] : null;
            }

            units.Add(inspection is not null
                ? new ReturnUnit(id, sku, inspection.Signal, options.TargetOf(inspection.Signal), Decided: true, Inspected: true, inspection.Passed, inspection.Note)
                : new ReturnUnit(id, sku, null, InspectionOptions.Quarantine, Decided: false, Inspected: false, Passed: false, null));
        }

        return new ReturnUnitPlan(units, closed, latest.Count > 0, ArrivalSignalOf(snapshot, closed, latest.Count > 0, labelStatuses, restockRequested, options));
    }

    private static string? ArrivalSignalOf(LoopReturn snapshot, bool closed, bool inspected, IReadOnlyList<string?> labelStatuses, bool restockRequested, InspectionOptions options)
    {
        if (inspected)
        {
            return "inspection";
        }

        var label = labelStatuses.Append(snapshot.LabelStatus).Concat(snapshot.Labels.Select(l => l.Status)).FirstOrDefault(options.MeansReceived);
        if (label is not null)
        {
            return "label:" + label.Trim().ToLowerInvariant();
        }

        if (restockRequested && options.ReceiveOnRestockRequested)
        {
            return ReturnTriggers.RestockRequested;
        }

        return closed && options.ReceiveOnClose ? ReturnStates.Closed : null;
    }
}
