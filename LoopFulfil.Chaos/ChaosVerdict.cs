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

        // Money documents no payload calls for (a credit note for store credit) are money Loop never gave.
        foreach (var ((kind, key), documents) in actual)
        {
            if (!expected.ContainsKey((kind, key)) && kind is ChaosReturns.CreditNote or ChaosReturns.StoreCreditJournal)
            {
                money += documents.Where(d => d.State != "cancelled").Sum(d => d.Amount);
            }
        }

        return new Result(duplicates, missing, unexpected, money, problems);
    }

    /// <summary>Return orders in Fulfil (all returns), for progress lines.</summary>
    public static int ReturnOrders(FulfilSandboxState fulfil) => fulfil.Where("sale.sale", s => Equals(s.GetValueOrDefault("is_return"), true)).Count;

    private sealed record Document(string? State, decimal Amount);

    /// <summary>Fulfil's documents for the run's returns, by (kind, reference or return id).</summary>
    private static Dictionary<(string Kind, string Key), List<Document>> Actual(FulfilSandboxState fulfil, HashSet<string> ids)
    {
        var result = new Dictionary<(string Kind, string Key), List<Document>>();
        void Add(string kind, string? key, FulfilSandboxRecord record, decimal amount = 0m)
        {
            if (key is null)
            {
                return;
            }

            if (!result.TryGetValue((kind, key), out var list))
            {
                result[(kind, key)] = list = [];
            }

            list.Add(new Document(record.State, amount));
        }

        bool Ours(string? reference) => reference is not null && ReturnIdOf().Match(reference) is { Success: true } m && ids.Contains(m.Groups[1].Value);

        foreach (var sale in fulfil.All("sale.sale"))
        {
            if (Equals(sale["is_return"], true))
            {
                if (sale.Text("channel_identifier") is { } id && ids.Contains(id))
                {
                    Add(ChaosReturns.ReturnOrder, id, sale);
                }
            }
            else if (Ours(sale.Text("reference")))
            {
                Add(ChaosReturns.ExchangeOrder, sale.Text("reference"), sale);
            }
        }

        foreach (var invoice in fulfil.Where("account.invoice", r => Equals(r.GetValueOrDefault("type"), "out")))
        {
            if (Ours(invoice.Text("reference")))
            {
                var total = fulfil.Where("account.invoice.line", l => Equals(l.GetValueOrDefault("invoice"), invoice.Id))
                    .Sum(l => l.Number("quantity") * l.Number("unit_price"));
                Add(ChaosReturns.CreditNote, invoice.Text("reference"), invoice, Math.Abs(total));
            }
        }

        foreach (var move in fulfil.All("account.move"))
        {
            if (Ours(move.Text("description")))
            {
                var debit = fulfil.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), move.Id)).Sum(l => l.Number("debit"));
                Add(ChaosReturns.StoreCreditJournal, move.Text("description"), move, debit);
            }
        }

        foreach (var shipment in fulfil.All("stock.shipment.internal"))
        {
            if (Ours(shipment.Text("reference")))
            {
                Add(ChaosReturns.Restock, shipment.Text("reference"), shipment);
            }
        }

        return result;
    }

    [GeneratedRegex(@"^LOOP-(\d+)-")]
    private static partial Regex ReturnIdOf();
}
