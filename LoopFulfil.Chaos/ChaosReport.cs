using System.Globalization;
using LoopFulfil.Sandbox.Hosting;

namespace LoopFulfil.Chaos;

/// <summary>What a chaos run found, and the lines it prints (the summary line last).</summary>
public sealed record ChaosReport
{
    public required int Returns { get; init; }

    /// <summary>Documents beyond the first with the same reference (or return orders beyond the first for a return).</summary>
    public required int DuplicateDocuments { get; init; }

    /// <summary>Documents the Loop payloads call for that Fulfil does not hold.</summary>
    public required int MissingDocuments { get; init; }

    /// <summary>Documents for a return of a kind its Loop payload does not call for (e.g. a credit note for store credit).</summary>
    public required int UnexpectedDocuments { get; init; }

    /// <summary>Σ |money in Fulfil − money in Loop| over every credit note and store-credit journal reference.</summary>
    public required decimal MoneyDifference { get; init; }

    public required int Restarts { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>From the end of set-up until the system was quiet.</summary>
    public required TimeSpan Processing { get; init; }

    public required long FulfilRequests { get; init; }

    public required IReadOnlyDictionary<SandboxFault, long> FulfilFaults { get; init; }

    /// <summary>Loop API calls the host made (through the Loop fault proxy, faulted ones included).</summary>
    public required long LoopRequests { get; init; }

    public IReadOnlyDictionary<SandboxFault, long> LoopFaults { get; init; } = new Dictionary<SandboxFault, long>();

    /// <summary>What the host wrote to Loop, and the duplicates among it.</summary>
    public ChaosLoopEffects LoopEffects { get; init; } = new(0, 0, 0, 0, []);

    /// <summary>Blob, queue and table requests the host made (counted by a relay in front of Azurite).</summary>
    public required long StorageRequests { get; init; }

    /// <summary>Host connections to Azurite whose requests the relay could not count (chunked bodies); expected 0.</summary>
    public long StorageUncountedConnections { get; init; }

    public required long WebhooksAccepted { get; init; }

    public required long WebhookAttemptsRefused { get; init; }

    public required int PoisonMessages { get; init; }

    public required bool Quiet { get; init; }

    /// <summary>Returns whose script stopped short, with where.</summary>
    public required IReadOnlyList<string> Stalled { get; init; }

    /// <summary>Where the scripts waited for the integration (percentiles of <see cref="ChaosReturn.ReturnOrderWait"/> and <see cref="ChaosReturn.ClosedWait"/>).</summary>
    public string ScriptWaits { get; init; } = "";

    /// <summary>The first problems found, one line each.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>No duplicate, missing or unexpected document, no duplicate Loop effect, and no money difference.</summary>
    public bool Clean => DuplicateDocuments == 0 && MissingDocuments == 0 && UnexpectedDocuments == 0 && LoopEffects.Duplicates == 0 && MoneyDifference == 0m;

    public IEnumerable<string> Lines()
    {
        var n = (double)Returns;
        yield return Invariant($"fulfil calls: {FulfilRequests} through the fault proxy ({string.Join(", ", FulfilFaults.Select(f => $"{f.Key} {f.Value}"))})");
        yield return Invariant($"loop calls: {LoopRequests} through the fault proxy ({string.Join(", ", LoopFaults.Select(f => $"{f.Key} {f.Value}"))})");
        yield return Invariant($"loop effects: {LoopEffects.Processes} processes, {LoopEffects.Flags} flags, {LoopEffects.Notes} notes; {LoopEffects.Duplicates} duplicate Loop effects");
        yield return Invariant($"webhooks: {WebhooksAccepted} deliveries accepted, {WebhookAttemptsRefused} attempts refused or unanswered (host down) and retried");
        yield return Invariant($"per return: {FulfilRequests / n:0.0} Fulfil calls, {LoopRequests / n:0.0} Loop calls (through the Loop fault proxy), {StorageRequests / n:0.0} storage operations (host requests to Azurite, blob + queue + table{(StorageUncountedConnections > 0 ? $"; {StorageUncountedConnections} connections not counted" : "")})");
        yield return Invariant($"returns per minute: {Returns / Math.Max(Processing.TotalMinutes, 1e-9):0.0} ({Processing.TotalSeconds:0} s from the first webhook to quiet{(Quiet ? "" : ", NOT quiet at the poll bound")})");
        if (ScriptWaits.Length > 0)
        {
            yield return ScriptWaits;
        }

        yield return Invariant($"poison messages: {PoisonMessages}; unexpected documents: {UnexpectedDocuments}; stalled scripts: {Stalled.Count}");
        foreach (var line in Stalled.Take(10))
        {
            yield return "  stalled: " + line;
        }

        foreach (var line in Problems)
        {
            yield return "  " + line;
        }

        yield return Invariant($"chaos: {Returns} returns, {DuplicateDocuments} duplicate documents, {MissingDocuments} missing documents, money difference {MoneyDifference:0.00}, {Restarts} restarts, {Elapsed.TotalSeconds:0} s");
    }

    /// <summary>The script waits line: p50 / p90 / max of each wait, in seconds.</summary>
    internal static string Waits(IReadOnlyList<ChaosReturn> returns)
    {
        static string Of(IEnumerable<TimeSpan?> waits)
        {
            var sorted = waits.OfType<TimeSpan>().Select(w => w.TotalSeconds).Order().ToList();
            return sorted.Count == 0
                ? "none"
                : Invariant($"{sorted[(sorted.Count - 1) / 2]:0.0} / {sorted[(int)((sorted.Count - 1) * 0.9)]:0.0} / {sorted[^1]:0.0} s");
        }

        return $"script waits (p50 / p90 / max): return order in Fulfil {Of(returns.Select(r => r.ReturnOrderWait))}; Loop closed after inspection {Of(returns.Select(r => r.ClosedWait))}; " +
            Invariant($"damaged returns closed by CX before the flag arrived (racing the inspection): {returns.Count(r => r.ClosedBeforeFlag)} of {returns.Count(r => r.Kind == ChaosKind.Damaged)}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
