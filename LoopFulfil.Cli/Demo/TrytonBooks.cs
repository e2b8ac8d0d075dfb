using System.Text.Json;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Cli.Demo;

/// <summary>Posted documents Tryton holds for one Loop return.</summary>
/// <param name="CreditNotes">Posted (or paid) customer invoices with a negative total made for the return: its return sale's, or referenced <c>LOOP-{id}-CN</c>.</param>
/// <param name="StoreCreditEntries">Posted journal entries <c>LOOP-{id}-SC</c>.</param>
/// <param name="ExchangeInvoices">Posted (or paid) invoices of the exchange sale <c>LOOP-{id}-EXC…</c>.</param>
internal sealed record TrytonReturnDocuments(int CreditNotes, int StoreCreditEntries, int ExchangeInvoices);

/// <summary>Σ debit and Σ credit over every posted move line: equal when the trial balance balances.</summary>
internal sealed record TrialBalance(decimal Debit, decimal Credit)
{
    public bool Balances => Debit == Credit;
}

/// <summary>
/// The books as Tryton holds them, read through the Fulfil façade's model interface (account.move.line, account.move,
/// account.invoice, sale.sale) — never through the integration's own bookkeeping. Balances count posted moves only
/// and may be taken from a watermark (the highest move line id before a run), so a run's books can be read on a
/// database that already holds others.
/// </summary>
internal sealed class TrytonBooks(FulfilHttp tryton)
{
    private static readonly string[] Done = ["posted", "paid"];
    private static readonly object?[] Newest = [new object[] { "id", "DESC" }];
    private static readonly bool[] ActiveOrArchived = [true, false];

    /// <summary>The highest account.move.line id so far (0 on an empty ledger).</summary>
    public async Task<int> WatermarkAsync(CancellationToken cancellationToken = default)
    {
        var rows = await tryton.SearchReadAsync<JsonElement>("account.move.line", [], 0, 1, ["id"], order: Newest, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? 0 : rows[0].GetProperty("id").GetInt32();
    }

    /// <summary>Debit − credit per account code over posted move lines with an id above <paramref name="after"/>.</summary>
    public async Task<IReadOnlyDictionary<string, decimal>> BalancesAsync(int after, CancellationToken cancellationToken = default)
    {
        var balances = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var line in await PostedLinesAsync(after, cancellationToken).ConfigureAwait(false))
        {
            var code = line.GetProperty("account.code").GetString() ?? "(no code)";
            balances[code] = balances.GetValueOrDefault(code) + Dec(line, "debit") - Dec(line, "credit");
        }

        return balances;
    }

    /// <summary>The trial balance of every posted move in the database.</summary>
    public async Task<TrialBalance> TrialBalanceAsync(CancellationToken cancellationToken = default)
    {
        var lines = await PostedLinesAsync(0, cancellationToken).ConfigureAwait(false);
        return new TrialBalance(lines.Sum(l => Dec(l, "debit")), lines.Sum(l => Dec(l, "credit")));
    }

    /// <summary>The posted credit notes, store-credit entries and exchange invoices of a Loop return.</summary>
    public async Task<TrytonReturnDocuments> DocumentsAsync(string returnId, CancellationToken cancellationToken = default)
    {
        string[] fields = ["id", "state", "total_amount"];
        var returnSales = await IdsAsync("sale.sale", [new object[] { "channel_identifier", "=", returnId }, new object?[] { "origin", "!=", null }], cancellationToken).ConfigureAwait(false);
        var credits = new List<JsonElement>();
        if (returnSales.Length > 0)
        {
            credits.AddRange(await tryton.SearchReadAllAsync<JsonElement>("account.invoice", [new object[] { "sales", "in", returnSales }], fields, cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        credits.AddRange(await tryton.SearchReadAllAsync<JsonElement>("account.invoice", [new object[] { "reference", "=", $"LOOP-{returnId}-CN" }], fields, cancellationToken: cancellationToken).ConfigureAwait(false));
        var creditNotes = credits.Where(i => IsDone(i) && Dec(i, "total_amount") < 0).Select(i => i.GetProperty("id").GetInt32()).Distinct().Count();

        var storeCredit = await tryton.SearchCountAsync("account.move", [new object[] { "description", "=", $"LOOP-{returnId}-SC" }, new object[] { "state", "=", "posted" }], cancellationToken).ConfigureAwait(false);

        var exchangeSales = await IdsAsync("sale.sale", [new object[] { "reference", "like", $"LOOP-{returnId}-EXC%" }], cancellationToken).ConfigureAwait(false);
        var exchangeInvoices = 0;
        if (exchangeSales.Length > 0)
        {
            var invoices = await tryton.SearchReadAllAsync<JsonElement>("account.invoice", [new object[] { "sales", "in", exchangeSales }], fields, cancellationToken: cancellationToken).ConfigureAwait(false);
            exchangeInvoices = invoices.Count(i => IsDone(i) && Dec(i, "total_amount") > 0);
        }

        return new TrytonReturnDocuments(creditNotes, storeCredit, exchangeInvoices);
    }

    /// <summary>On-hand quantity of each SKU (archived products too) in each location and its children, as Tryton computes it.</summary>
    public async Task<IReadOnlyDictionary<(string Sku, string Location), decimal>> StockAsync(IReadOnlyCollection<string> skus, IReadOnlyCollection<string> locationCodes, CancellationToken cancellationToken = default)
    {
        var stock = new Dictionary<(string, string), decimal>();
        var locations = await tryton.SearchReadAllAsync<JsonElement>("stock.location", [new object[] { "code", "in", locationCodes.ToArray() }], ["id", "code"], cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var location in locations)
        {
            var context = new Dictionary<string, object?> { ["locations"] = new[] { location.GetProperty("id").GetInt32() }, ["with_childs"] = true };
            var products = await tryton.SearchReadAllAsync<JsonElement>("product.product", [new object[] { "code", "in", skus.ToArray() }, new object[] { "active", "in", ActiveOrArchived }], ["id", "code", "quantity"], context, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var p in products)
            {
                stock[(p.GetProperty("code").GetString()!, location.GetProperty("code").GetString()!)] = p.GetProperty("quantity").GetDecimal();
            }
        }

        foreach (var sku in skus)
        {
            foreach (var code in locationCodes)
            {
                stock.TryAdd((sku, code), 0m);
            }
        }

        return stock;
    }

    private Task<IReadOnlyList<JsonElement>> PostedLinesAsync(int after, CancellationToken cancellationToken) =>
        tryton.SearchReadAllAsync<JsonElement>("account.move.line", [new object[] { "id", ">", after }, new object[] { "move.state", "=", "posted" }], ["id", "account.code", "debit", "credit"], cancellationToken: cancellationToken);

    private async Task<int[]> IdsAsync(string model, object?[] domain, CancellationToken cancellationToken) =>
        [.. (await tryton.SearchReadAllAsync<JsonElement>(model, domain, ["id"], cancellationToken: cancellationToken).ConfigureAwait(false)).Select(r => r.GetProperty("id").GetInt32())];

    private static bool IsDone(JsonElement invoice) => Done.Contains(invoice.GetProperty("state").GetString());

    private static decimal Dec(JsonElement row, string field) => row.GetProperty(field).Deserialize<decimal>(TrytonJson.Options);
}
