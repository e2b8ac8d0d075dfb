using LoopFulfil.Sandbox.Fulfil;

namespace LoopFulfil.Chaos;

/// <summary>The in-memory Fulfil simulator as the run's ERP: orders and documents read from its state directly.</summary>
internal sealed class SimulatorChaosErp(FulfilSandboxState fulfil) : IChaosErp
{
    public string Name => "simulator";

    /// <summary>The simulator's demo orders carry no tax.</summary>
    public decimal TaxRate => 0m;

    public IReadOnlySet<ChaosKind> Unsupported { get; } = new HashSet<ChaosKind>();

    public Task CreateSalesAsync(IReadOnlyList<ChaosSale> sales, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sales);
        foreach (var (sku, _, _, _) in FulfilSandboxDemo.Catalog)
        {
            // Exchanges ship from sellable stock: enough for any run.
            fulfil.SetStock(sku, FulfilSandboxDemo.SellableLocationCode, 1_000_000m);
        }

        var party = fulfil.AddParty("Chaos customer");
        foreach (var sale in sales)
        {
            fulfil.AddSale(sale.OrderName, sale.ChannelIdentifier, party, "done", [.. sale.Lines]);
        }

        return Task.CompletedTask;
    }

    public Task<bool> HasReturnOrderAsync(string returnId, CancellationToken cancellationToken) =>
        Task.FromResult(fulfil.Where("sale.sale", s => Equals(s.GetValueOrDefault("is_return"), true) && Equals(s.GetValueOrDefault("channel_identifier"), returnId)).Count > 0);

    public Task<int> ReturnOrdersAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken)
    {
        // Counted in the filter: returning them would work out every return order's computed fields under the sandbox's lock.
        var count = 0;
        fulfil.Where("sale.sale", s =>
        {
            count += Equals(s.GetValueOrDefault("is_return"), true) ? 1 : 0;
            return false;
        });
        return Task.FromResult(count);
    }

    public Task<IReadOnlyDictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>>> DocumentsAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>>>(
            Actual(fulfil, returnIds).ToDictionary(kv => kv.Key, kv => (IReadOnlyList<ChaosDocument>)kv.Value));

    /// <summary>Fulfil's documents for the run's returns, by (kind, reference or return id).</summary>
    private static Dictionary<(string Kind, string Key), List<ChaosDocument>> Actual(FulfilSandboxState fulfil, IReadOnlySet<string> ids)
    {
        var result = new Dictionary<(string Kind, string Key), List<ChaosDocument>>();
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

            list.Add(new ChaosDocument(state, amount));
        }

        bool Ours(string? reference) => reference is not null && ChaosVerdict.ReturnIdOf().Match(reference) is { Success: true } m && ids.Contains(m.Groups[1].Value);

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

}
