using System.Text.RegularExpressions;

namespace LoopFulfil.Chaos;

/// <summary>
/// Compares what Fulfil holds with what the Loop payloads call for. Expected documents and money come from the
/// payloads the driver generated (<see cref="ChaosReturn.Expected"/>), never from the integration's own records.
/// Every document counts whatever its state (a draft second credit note is still a second credit note); money
/// counts every document not cancelled.
/// </summary>
internal static partial class ChaosVerdict
{
    public sealed record Result(int Duplicates, int Missing, int Unexpected, decimal MoneyDifference, IReadOnlyList<string> Problems);

    /// <summary>Reads the ERP's documents for the run's returns through <paramref name="erp"/> and compares them.</summary>
    public static async Task<Result> CompareAsync(IReadOnlyList<ChaosReturn> returns, IChaosErp erp, CancellationToken cancellationToken, int maxProblems = 20)
    {
        ArgumentNullException.ThrowIfNull(returns);
        ArgumentNullException.ThrowIfNull(erp);
        var actual = await erp.DocumentsAsync(returns.Select(r => r.Id).ToHashSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        return Compare(returns, actual, maxProblems);
    }

    public static Result Compare(IReadOnlyList<ChaosReturn> returns, IReadOnlyDictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>> actual, int maxProblems = 20)
    {
        ArgumentNullException.ThrowIfNull(returns);
        ArgumentNullException.ThrowIfNull(actual);
        var expected = returns.SelectMany(r => r.Expected).ToDictionary(e => (e.Kind, e.Key));
        var problems = new List<string>();
        void Problem(string text)
        {
            if (problems.Count < maxProblems)
            {
                problems.Add(text);
            }
        }

        int duplicates = 0, missing = 0, unexpected = 0;
        var money = 0m;
        foreach (var ((kind, key), documents) in actual)
        {
            if (expected.ContainsKey((kind, key)))
            {
                if (documents.Count > 1)
                {
                    duplicates += documents.Count - 1;
                    Problem($"{documents.Count} × {kind} {key} ({string.Join(", ", documents.Select(d => d.State ?? "?"))})");
                }
            }
            else
            {
                unexpected += documents.Count;
                Problem($"unexpected {kind} {key} × {documents.Count}");
            }
        }

        foreach (var ((kind, key), document) in expected)
        {
            var found = actual.GetValueOrDefault((kind, key)) ?? [];
            if (found.Count == 0)
            {
                missing++;
                Problem($"missing {kind} {key}");
            }

            if (document.Amount is { } amount)
            {
                var held = found.Where(d => d.State != "cancelled").Sum(d => d.Amount);
                if (held != amount)
                {
                    money += Math.Abs(held - amount);
                    Problem($"{kind} {key}: {held:0.00} in Fulfil, {amount:0.00} in Loop");
                }
            }
        }

        // Money documents no payload calls for (a second refund payment, store credit on a cash refund) are money Loop never gave.
        foreach (var ((kind, key), documents) in actual)
        {
            if (!expected.ContainsKey((kind, key)) && kind is ChaosReturns.CreditNote or ChaosReturns.Journal)
            {
                money += documents.Where(d => d.State != "cancelled").Sum(d => d.Amount);
            }
        }

        return new Result(duplicates, missing, unexpected, money, problems);
    }

    [GeneratedRegex(@"^LOOP-(\d+)-")]
    internal static partial Regex ReturnIdOf();
}
