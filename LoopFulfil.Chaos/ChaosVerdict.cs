using System.Text.RegularExpressions;
using LoopFulfil.Sandbox.Fulfil;

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

    public static Result Compare(IReadOnlyList<ChaosReturn> returns, FulfilSandboxState fulfil, int maxProblems = 20)
    {
        ArgumentNullException.ThrowIfNull(returns);
        ArgumentNullException.ThrowIfNull(fulfil);
        var ids = returns.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var actual = Actual(fulfil, ids);
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

    /// <summary>Return orders in Fulfil (all returns), for progress lines.</summary>
    public static int ReturnOrders(FulfilSandboxState fulfil)
    {
        // Counted in the filter: returning them would work out every return order's computed fields under the sandbox's lock.
        var count = 0;
        fulfil.Where("sale.sale", s =>
        {
            count += Equals(s.GetValueOrDefault("is_return"), true) ? 1 : 0;
            return false;
        });
        return count;
    }

    private sealed record Document(string? State, decimal Amount);

    /// <summary>Fulfil's documents for the run's returns, by (kind, reference or return id).</summary>
    private static Dictionary<(string Kind, string Key), List<Document>> Actual(FulfilSandboxState fulfil, HashSet<string> ids)
    {
        var result = new Dictionary<(string Kind, string Key), List<Document>>();
        void Add(string kind, string? key, string? state, decimal amount = 0m)
        {
            if (key is null)
            {
                return;
            }

            if (!result.TryGetValue((kind, key), out var list))
            {
                result[(kind, key)] = list = [];
            }

            list.Add(new Document(state, amount));
        }

        bool Ours(string? reference) => reference is not null && ReturnIdOf().Match(reference) is { Success: true } m && ids.Contains(m.Groups[1].Value);

        // The sandbox works out computed fields (lines, totals) for every record it returns, under its one lock, so
        // sales (thousands) are read from their stored fields inside the filter and never returned: a full read per
        // poll made a 1,000-return run's end wait quadratic and stalled the sandbox the host was calling.
        var sales = new List<(string Kind, string Key, string? State)>();
        fulfil.Where("sale.sale", r =>
        {
            var state = r.GetValueOrDefault("state") as string;
            if (Equals(r.GetValueOrDefault("is_return"), true))
            {
                if (r.GetValueOrDefault("channel_identifier") is string id && ids.Contains(id))
                {
                    sales.Add((ChaosReturns.ReturnOrder, id, state));
                }
            }
            else if (r.GetValueOrDefault("reference") is string reference && Ours(reference))
            {
                sales.Add((ChaosReturns.ExchangeOrder, reference, state));
            }

            return false;
        });
        foreach (var (kind, key, state) in sales)
        {
            Add(kind, key, state);
        }

        // Lines grouped once: a look-up per document made every poll of a 1,000-return run quadratic.
        var invoiceTotals = fulfil.All("account.invoice.line").Where(l => l.Ref("invoice") is not null).GroupBy(l => l.Ref("invoice")!.Value)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.Number("quantity") * l.Number("unit_price")));
        foreach (var invoice in fulfil.Where("account.invoice", r => Equals(r.GetValueOrDefault("type"), "out") && Ours(r.GetValueOrDefault("reference") as string)))
        {
            if (Ours(invoice.Text("reference")))
            {
                Add(ChaosReturns.CreditNote, invoice.Text("reference"), invoice.State, Math.Abs(invoiceTotals.GetValueOrDefault(invoice.Id)));
            }
        }

        var moveDebits = fulfil.All("account.move.line").Where(l => l.Ref("move") is not null).GroupBy(l => l.Ref("move")!.Value)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.Number("debit")));
        foreach (var move in fulfil.Where("account.move", r => Ours(r.GetValueOrDefault("description") as string)))
        {
            if (Ours(move.Text("description")))
            {
                Add(ChaosReturns.Journal, move.Text("description"), move.State, moveDebits.GetValueOrDefault(move.Id));
            }
        }

        foreach (var shipment in fulfil.Where("stock.shipment.internal", r => Ours(r.GetValueOrDefault("reference") as string)))
        {
            if (Ours(shipment.Text("reference")))
            {
                Add(ChaosReturns.Restock, shipment.Text("reference"), shipment.State);
            }
        }

        return result;
    }

    [GeneratedRegex(@"^LOOP-(\d+)-")]
    private static partial Regex ReturnIdOf();
}
