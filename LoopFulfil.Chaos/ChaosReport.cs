using System.Globalization;
using LoopFulfil.Sandbox.Faults;

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

    public required IReadOnlyDictionary<ProxyFault, long> FulfilFaults { get; init; }

    public required long LoopRequests { get; init; }

    public required long WebhooksAccepted { get; init; }

    public required long WebhookAttemptsRefused { get; init; }

    public required int PoisonMessages { get; init; }

    public required bool Quiet { get; init; }

    /// <summary>Returns whose script stopped short, with where.</summary>
    public required IReadOnlyList<string> Stalled { get; init; }

    /// <summary>The first problems found, one line each.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>No duplicate, missing or unexpected document, and no money difference.</summary>
    public bool Clean => DuplicateDocuments == 0 && MissingDocuments == 0 && UnexpectedDocuments == 0 && MoneyDifference == 0m;

    public IEnumerable<string> Lines()
    {
        var n = (double)Returns;
        yield return Invariant($"fulfil calls: {FulfilRequests} through the fault proxy ({string.Join(", ", FulfilFaults.Select(f => $"{f.Key} {f.Value}"))})");
        yield return Invariant($"webhooks: {WebhooksAccepted} deliveries accepted, {WebhookAttemptsRefused} attempts refused or unanswered (host down) and retried");
        yield return Invariant($"per return: {FulfilRequests / n:0.0} Fulfil calls, {LoopRequests / n:0.0} Loop calls (Loop sandbox request log); storage operations not counted (Azurite exposes no request count, and a pass-through proxy in front of it broke the host's table request signatures)");
        yield return Invariant($"returns per minute: {Returns / Math.Max(Processing.TotalMinutes, 1e-9):0.0} ({Processing.TotalSeconds:0} s from the first webhook to quiet{(Quiet ? "" : ", NOT quiet at the poll bound")})");
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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
