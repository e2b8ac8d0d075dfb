using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Books;
using LoopFulfil.Sandbox.Tryton;
using Spectre.Console;

namespace LoopFulfil.Cli.Demo;

/// <summary>
/// <c>demo --erp tryton</c>: the returns scenarios against a real Tryton 6.0 (Fulfil façade), Loop simulated, each
/// checked by reading Tryton's own records; then the books and stock straight from Tryton.
/// </summary>
internal static class TrytonDemo
{
    // The sales tax eng/tryton/setup.py puts on every product; Loop's payloads carry the tax the shop charged.
    private const decimal TrytonSalesTax = 0.10m;

    private static readonly string[] Skus = ["TEE-BLK-M", "HOOD/GRY:XL", "SOCK-3PK", "TEE-BLK-L"];

    public static IReadOnlyList<DemoScenario> Scenarios(DemoRun run, FulfilHttp tryton)
    {
        var authorised = new DemoReturn(run.NextReturnId(), "#1001", "refund") { TaxRate = TrytonSalesTax }.WithUnit("HOOD/GRY:XL", 79.99m);
        var cancelled = new DemoReturn(run.NextReturnId(), "#1001", "refund") { TaxRate = TrytonSalesTax }.WithUnit("TEE-BLK-M", 25.00m);
        var storeCredit = new DemoReturn(run.NextReturnId(), "#1003", "credit") { TaxRate = TrytonSalesTax }.WithUnit("SOCK-3PK", 12.00m);
        var damaged = new DemoReturn(run.NextReturnId(), "#1003", "refund") { TaxRate = TrytonSalesTax }.WithUnit("SOCK-3PK", 12.00m);
        var unknownSku = new DemoReturn(run.NextReturnId(), "#1003", "refund") { TaxRate = TrytonSalesTax }.WithUnit("TEE-NEW-XS", 30.00m);
        return
        [
            new DemoScenario
            {
                Name = "Return authorised (awaiting goods)",
                Expected = "Tryton return sale (processing), its draft customer return shipment (into QUAR once the parcel arrives) and draft credit note",
                ActAsync = (r, _) => r.AddReturnAsync(authorised, sendCreated: true),
                CheckAsync = async (_, ct) => await OneReturnSaleWithDraftShipmentAsync(tryton, authorised.Id, ct),
            },
            new DemoScenario
            {
                Name = "Cancelled before receipt",
                Expected = "Tryton keeps the processing return sale; its draft return shipment is cancelled",
                ActAsync = async (r, ct) =>
                {
                    await r.AddReturnAsync(cancelled, sendCreated: true);
                    if (await WaitAsync(r, async () => (await ReturnSalesAsync(tryton, cancelled.Id, ct)).Count == 1, ct))
                    {
                        r.Sandbox.Loop.SetState(cancelled.Id, "cancelled");
                    }
                },
                CheckAsync = async (_, ct) => await ShipmentsInStateAsync(tryton, cancelled.Id, "cancelled", ct),
            },
            new DemoScenario
            {
                Name = "Store credit",
                Expected = "inspected back to stock: balanced liability entry LOOP-{id}-SC posted in Tryton",
                ActAsync = async (r, ct) => await InspectAfterAuthorisationAsync(r, tryton, storeCredit, passed: true, "back_to_stock", ct),
                CheckAsync = async (_, ct) => await PostedAsync(tryton, "account.move", "description", $"LOOP-{storeCredit.Id}-SC", ct),
            },
            new DemoScenario
            {
                Name = "Damaged item",
                Expected = "fails inspection: after CX closes it in Loop, Tryton moves the unit QUAR→DMG (internal shipment done)",
                ActAsync = async (r, ct) =>
                {
                    await InspectAfterAuthorisationAsync(r, tryton, damaged, passed: false, "junk", ct);
                    if (await WaitAsync(r, () => Task.FromResult(r.Sandbox.Loop.FlagCount(damaged.Id) > 0), ct))
                    {
                        r.Sandbox.Loop.SetState(damaged.Id, "closed");
                    }
                },
                CheckAsync = async (_, ct) => await PostedAsync(tryton, "stock.shipment.internal", "reference", $"LOOP-{damaged.Id}-RESTOCK-DMG", ct, "done"),
            },
            new DemoScenario
            {
                Name = "Unknown SKU",
                Expected = "nothing posted to Tryton; one open SkuNotFound exception",
                ActAsync = (r, _) => r.AddReturnAsync(unknownSku, sendCreated: true),
                CheckAsync = async (r, ct) =>
                {
                    var records = await r.ExceptionsOfAsync(unknownSku.Id, ct);
                    return (await ReturnSalesAsync(tryton, unknownSku.Id, ct)).Count > 0 ? "a return sale was made"
                        : records.Count == 1 && records[0].Category == ExceptionCategory.SkuNotFound ? null
                        : $"exceptions [{string.Join(", ", records.Select(x => x.Category))}], expected one SkuNotFound";
                },
            },
        ];
    }

    /// <summary>Balances and stock as Tryton holds them (not the integration's bookkeeping).</summary>
    public static async Task PrintBooksAsync(IAnsiConsole console, FulfilHttp tryton, CancellationToken cancellationToken)
    {
        var accounts = new Table().Border(TableBorder.Rounded).Title("Tryton: account balances (debit − credit)").AddColumns("Account", "Name", "Balance");
        string[] codes = [TrytonEngine.Codes.ReturnsClearing, TrytonEngine.Codes.Receivable, TrytonEngine.Codes.Tax, TrytonEngine.Codes.GiftCardLiability];
        var rows = await tryton.SearchReadAllAsync<JsonElement>("account.account", [new object[] { "code", "in", codes }], ["id", "code", "name", "balance"], cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var code in codes)
        {
            var row = rows.FirstOrDefault(r => r.GetProperty("code").GetString() == code);
            var balance = row.ValueKind == JsonValueKind.Object ? row.GetProperty("balance").Deserialize<decimal>(TrytonJson.Options) : 0m;
            accounts.AddRow(code, Markup.Escape(row.ValueKind == JsonValueKind.Object ? row.GetProperty("name").GetString() ?? "" : "(missing)"), balance.ToString("0.00", CultureInfo.InvariantCulture));
        }

        console.Write(accounts);
        string[] locations = [TrytonEngine.Codes.Quarantine, TrytonEngine.Codes.Sellable, TrytonEngine.Codes.Damaged];
        var stock = new Table().Border(TableBorder.Rounded).Title("Tryton: stock on hand").AddColumn("SKU");
        foreach (var location in locations)
        {
            stock.AddColumn(new TableColumn(location).RightAligned());
        }

        var quantities = await new TrytonBooks(tryton).StockAsync(Skus, locations, cancellationToken).ConfigureAwait(false);
        foreach (var sku in Skus)
        {
            stock.AddRow([Markup.Escape(sku), .. locations.Select(l => quantities.GetValueOrDefault((sku, l)).ToString("0.##", CultureInfo.InvariantCulture))]);
        }

        console.Write(stock);
    }

    /// <summary>
    /// The line <c>books: N returns, difference X.XX</c>: the books oracle (docs/accounting.md applied to the Loop
    /// webhooks the run sent, never the integration's plan) against Tryton's posted move lines since
    /// <paramref name="watermark"/>; the difference is Σ |expected − Tryton| over the accounts of the table.
    /// </summary>
    public static async Task PrintBooksLineAsync(IAnsiConsole console, FulfilHttp tryton, int watermark, SandboxEnvironment sandbox, CancellationToken cancellationToken)
    {
        var bodies = sandbox.Loop.WebhookDeliveries.Select(d => JsonNode.Parse(d.Body) as JsonObject).OfType<JsonObject>();
        var expected = LoopReturnPayloads.FromWebhooks(bodies).Where(p => p.Return is not null).Select(p => ExpectedBooks.For(p)).ToList();
        var chart = BookChart.From(TrytonEngine.Codes.Receivable, TrytonEngine.Codes.Revenue, TrytonEngine.Codes.Tax, sandbox.Settings);
        var actual = await new TrytonBooks(tryton).BalancesAsync(watermark, cancellationToken).ConfigureAwait(false);
        var difference = chart.Difference(chart.ByCode(ExpectedBooks.Sum(expected)), actual);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"books: {expected.Count} returns, difference {difference:0.00}"));
    }

    private static async Task InspectAfterAuthorisationAsync(DemoRun run, FulfilHttp tryton, DemoReturn demo, bool passed, string disposition, CancellationToken cancellationToken)
    {
        await run.AddReturnAsync(demo, sendCreated: true).ConfigureAwait(false);
        if (await WaitAsync(run, async () => (await ReturnSalesAsync(tryton, demo.Id, cancellationToken).ConfigureAwait(false)).Count == 1, cancellationToken).ConfigureAwait(false))
        {
            await run.InspectAsync(demo, passed, disposition, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> WaitAsync(DemoRun run, Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        while (!await condition().ConfigureAwait(false))
        {
            if (TimeProvider.System.GetUtcNow() > run.Deadline)
            {
                return false;
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static Task<IReadOnlyList<JsonElement>> ReturnSalesAsync(FulfilHttp tryton, string returnId, CancellationToken cancellationToken) =>
        tryton.SearchReadAllAsync<JsonElement>("sale.sale", [new object[] { "channel_identifier", "=", returnId }, new object?[] { "origin", "!=", null }], ["id", "state", "shipment_returns"], cancellationToken: cancellationToken);

    private static async Task<string?> OneReturnSaleWithDraftShipmentAsync(FulfilHttp tryton, string returnId, CancellationToken cancellationToken)
    {
        var sales = await ReturnSalesAsync(tryton, returnId, cancellationToken).ConfigureAwait(false);
        if (sales.Count != 1)
        {
            return $"{sales.Count} return sales, expected 1";
        }

        // No location on the return sale: its draft return shipment comes into the warehouse input, and the receipt
        // stage takes it on to quarantine once the parcel arrives.
        return await ShipmentsInStateAsync(tryton, returnId, "draft", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string?> ShipmentsInStateAsync(FulfilHttp tryton, string returnId, string state, CancellationToken cancellationToken)
    {
        var sales = await ReturnSalesAsync(tryton, returnId, cancellationToken).ConfigureAwait(false);
        var ids = sales.SelectMany(s => s.GetProperty("shipment_returns").EnumerateArray().Select(e => e.GetInt32())).ToArray();
        if (ids.Length == 0)
        {
            return "no customer return shipment";
        }

        var shipments = await tryton.SearchReadAllAsync<JsonElement>("stock.shipment.out.return", [new object[] { "id", "in", ids }], ["id", "state"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return shipments.All(s => s.GetProperty("state").GetString() == state) ? null : $"return shipments are [{string.Join(", ", shipments.Select(s => s.GetProperty("state").GetString()))}], expected {state}";
    }

    private static async Task<string?> PostedAsync(FulfilHttp tryton, string model, string field, string reference, CancellationToken cancellationToken, string state = "posted")
    {
        var rows = await tryton.SearchReadAllAsync<JsonElement>(model, [new object[] { field, "=", reference }], ["id", "state"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 && rows[0].GetProperty("state").GetString() == state ? null
            : rows.Count == 0 ? $"no {model} {reference}" : $"{reference} is {rows[0].GetProperty("state").GetString()}, expected {state}";
    }
}
