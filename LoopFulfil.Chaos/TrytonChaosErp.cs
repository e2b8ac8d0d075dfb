using System.Text.Json;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Tryton;

namespace LoopFulfil.Chaos;

/// <summary>
/// Tryton 6.0 behind the Fulfil façade as the run's ERP. Orders are made by Tryton's own workflow
/// (<see cref="TrytonSales"/>), and documents are read over the façade's model interface, straight to the engine
/// (never through the fault proxy the host's calls go through). What counts as one document:
/// <list type="bullet">
/// <item>return order: a return sale (origin a sale) whose channel identifier is the Loop return id, whatever its state
/// (Tryton keeps a withdrawn one processing);</item>
/// <item>credit note: an <c>account.invoice</c> of type out linked to that return sale (Tryton makes it when it processes
/// the sale), or referenced <c>LOOP-{id}-CN</c>; a cancelled one is not counted (Tryton made one for every return
/// sale, and the integration cancels it when the return is cancelled); amount: −total_amount, tax included as
/// Tryton computes it;</item>
/// <item>journal entry: an <c>account.move</c> described <c>LOOP-{id}-…</c>, amount Σ debit of its lines;</item>
/// <item>exchange order: a sale referenced <c>LOOP-{id}-EXC…</c>; restock: a <c>stock.shipment.internal</c> referenced <c>LOOP-{id}-RESTOCK-…</c>.</item>
/// </list>
/// </summary>
internal sealed class TrytonChaosErp : IChaosErp, IDisposable
{
    private const string Customer = "Demo Customer A";
    private readonly HttpClient _client;
    private readonly FulfilHttp _tryton;
    private readonly TrytonSales _sales;

    public TrytonChaosErp(TrytonEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _client = new HttpClient { BaseAddress = engine.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        _tryton = new FulfilHttp(_client, new FulfilOptions { ApiKey = engine.ApiKey, CompanyId = engine.CompanyId, PageSize = 500 });
        _sales = new TrytonSales(_tryton, engine);
    }

    public string Name => "tryton";

    public decimal TaxRate => TrytonSales.SalesTaxRate;

    /// <summary>The legacy exchange on its own <c>EXC-</c> order has no Tryton scenario test yet; it is left out.</summary>
    public IReadOnlySet<ChaosKind> Unsupported { get; } = new HashSet<ChaosKind> { ChaosKind.ExchangeSeparateOrder };

    public async Task CreateSalesAsync(IReadOnlyList<ChaosSale> sales, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sales);
        // SQLite takes one writer at a time: one sale after another.
        foreach (var sale in sales)
        {
            await _sales.CreateShippedSaleAsync(sale.OrderName, sale.ChannelIdentifier, Customer, sale.Lines, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> HasReturnOrderAsync(string returnId, CancellationToken cancellationToken) =>
        (await RowsAsync("sale.sale", [new object[] { "channel_identifier", "=", returnId }, new object?[] { "origin", "!=", null }], [], cancellationToken).ConfigureAwait(false)).Count > 0;

    public async Task<int> ReturnOrdersAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken) =>
        (await ReturnSalesAsync(returnIds, cancellationToken).ConfigureAwait(false)).Count;

    public async Task<IReadOnlyDictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>>> DocumentsAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(returnIds);
        var result = new Dictionary<(string Kind, string Key), IReadOnlyList<ChaosDocument>>();
        void Add(string kind, string key, string? state, decimal amount = 0m)
        {
            var list = result.TryGetValue((kind, key), out var found) ? (List<ChaosDocument>)found : [];
            list.Add(new ChaosDocument(state, amount));
            result[(kind, key)] = list;
        }

        string? Ours(string? reference) =>
            reference is not null && ChaosVerdict.ReturnIdOf().Match(reference) is { Success: true } m && returnIds.Contains(m.Groups[1].Value) ? m.Groups[1].Value : null;

        var returnSales = await ReturnSalesAsync(returnIds, cancellationToken).ConfigureAwait(false);
        foreach (var sale in returnSales)
        {
            Add(ChaosReturns.ReturnOrder, Str(sale, "channel_identifier")!, Str(sale, "state"));
        }

        foreach (var sale in await RowsAsync("sale.sale", [new object[] { "reference", "like", "LOOP-%" }], ["reference", "state"], cancellationToken).ConfigureAwait(false))
        {
            if (Ours(Str(sale, "reference")) is not null)
            {
                Add(ChaosReturns.ExchangeOrder, Str(sale, "reference")!, Str(sale, "state"));
            }
        }

        // Credit notes: Tryton's own, linked to the return sale, and any referenced LOOP-{id}-CN; each invoice once.
        var returnOf = returnSales.ToDictionary(s => s.GetProperty("id").GetInt32(), s => Str(s, "channel_identifier")!);
        string[] invoiceFields = ["reference", "state", "type", "total_amount", "sales"];
        var invoices = new Dictionary<int, JsonElement>();
        if (returnOf.Count > 0)
        {
            foreach (var invoice in await RowsAsync("account.invoice", [new object[] { "sales", "in", returnOf.Keys.ToArray() }], invoiceFields, cancellationToken).ConfigureAwait(false))
            {
                invoices[invoice.GetProperty("id").GetInt32()] = invoice;
            }
        }

        foreach (var invoice in await RowsAsync("account.invoice", [new object[] { "reference", "like", "LOOP-%-CN" }], invoiceFields, cancellationToken).ConfigureAwait(false))
        {
            invoices[invoice.GetProperty("id").GetInt32()] = invoice;
        }

        foreach (var invoice in invoices.Values.Where(i => Str(i, "type") == "out" && Str(i, "state") != "cancelled"))
        {
            var returnId = Ours(Str(invoice, "reference"))
                ?? invoice.GetProperty("sales").EnumerateArray().Select(s => returnOf.GetValueOrDefault(s.GetInt32())).FirstOrDefault(r => r is not null);
            if (returnId is not null)
            {
                Add(ChaosReturns.CreditNote, $"LOOP-{returnId}-CN", Str(invoice, "state"), Math.Abs(Dec(invoice, "total_amount")));
            }
        }

        var moves = (await RowsAsync("account.move", [new object[] { "description", "like", "LOOP-%" }], ["description", "state"], cancellationToken).ConfigureAwait(false))
            .Where(m => Ours(Str(m, "description")) is not null).ToList();
        if (moves.Count > 0)
        {
            var debits = (await RowsAsync("account.move.line", [new object[] { "move", "in", moves.Select(m => m.GetProperty("id").GetInt32()).ToArray() }], ["move", "debit"], cancellationToken).ConfigureAwait(false))
                .GroupBy(l => l.GetProperty("move").GetInt32()).ToDictionary(g => g.Key, g => g.Sum(l => Dec(l, "debit")));
            foreach (var move in moves)
            {
                Add(ChaosReturns.Journal, Str(move, "description")!, Str(move, "state"), debits.GetValueOrDefault(move.GetProperty("id").GetInt32()));
            }
        }

        foreach (var shipment in await RowsAsync("stock.shipment.internal", [new object[] { "reference", "like", "LOOP-%" }], ["reference", "state"], cancellationToken).ConfigureAwait(false))
        {
            if (Ours(Str(shipment, "reference")) is not null)
            {
                Add(ChaosReturns.Restock, Str(shipment, "reference")!, Str(shipment, "state"));
            }
        }

        return result;
    }

    public void Dispose() => _client.Dispose();

    private async Task<IReadOnlyList<JsonElement>> ReturnSalesAsync(IReadOnlySet<string> returnIds, CancellationToken cancellationToken) =>
        returnIds.Count == 0 ? [] : await RowsAsync("sale.sale", [new object[] { "channel_identifier", "in", returnIds.ToArray() }, new object?[] { "origin", "!=", null }], ["channel_identifier", "state"], cancellationToken).ConfigureAwait(false);

    private Task<IReadOnlyList<JsonElement>> RowsAsync(string model, object?[] domain, string[] fields, CancellationToken cancellationToken) =>
        _tryton.SearchReadAllAsync<JsonElement>(model, domain, ["id", .. fields], cancellationToken: cancellationToken);

    private static string? Str(JsonElement row, string field) =>
        row.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static decimal Dec(JsonElement row, string field) => row.GetProperty(field).Deserialize<decimal>(TrytonJson.Options);
}
