using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Demo;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Sandbox.Books;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Books;
using LoopFulfil.Tests.Builders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// Shadow mode (issue #18) on the real engine: a cash refund, a store credit and an even exchange run through the whole
/// pipeline in shadow mode while the existing process (the test, posing as Fulfil's Shopify channel) has already made
/// the return sales of two of them and posted one credit note. Tryton rules met: every record Tryton holds keeps its
/// id and write date (nothing is created, written or moved by a planned write); a return sale of the existing process
/// is found through its origin; and after the switch to live, Tryton's own credit note of an adopted return sale is
/// the one credit note of the return (docs/accounting.md, "Documents the existing process already posted").
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonShadowModeTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    /// <summary>Every model the integration writes (docs/fulfil-on-tryton.md), with the fields that show a change.</summary>
    private static readonly (string Model, string[] Fields)[] WrittenModels =
    [
        ("sale.sale", ["state", "reference", "channel_identifier", "total_amount"]),
        ("sale.line", ["quantity", "unit_price"]),
        ("account.invoice", ["state", "reference", "total_amount"]),
        ("account.invoice.line", ["quantity", "unit_price"]),
        ("account.move", ["state", "description"]),
        ("account.move.line", ["debit", "credit", "reconciliation"]),
        ("account.move.reconciliation", ["name"]),
        ("stock.move", ["state", "quantity", "from_location", "to_location"]),
        ("stock.shipment.out.return", ["state"]),
        ("stock.shipment.internal", ["state", "reference"]),
        ("sale.gift_card", []),
        ("party.party", []),
        ("party.address", []),
    ];

    private static readonly string[] DoneStates = ["posted", "paid"];

    [Fact]
    public async Task Shadow_run_changes_no_tryton_record_and_reports_loop_amounts_then_live_posts_only_what_the_existing_process_had_not()
    {
        await using var h = await StartAsync(new Dictionary<string, string?> { ["Integration:Mode"] = "Shadow" });
        var books = new TrytonBooks(h.Http);
        var refund = await OrderAsync(h, BooksScenarios.Refund(lineCarriesValue: false));
        var credit = await OrderAsync(h, BooksScenarios.StoreCredit(lineCarriesValue: false));
        var exchange = await OrderAsync(h, BooksScenarios.EvenExchange(lineCarriesValue: false));
        var watermark = await books.WatermarkAsync();

        // The existing process: the refund's return sale with its credit note posted, the store credit's return sale
        // (Tryton's draft credit note left as it is); nothing for the exchange.
        var refundSale = await ExistingReturnSaleAsync(h, refund.SaleId, "SHOPIFY-RET-" + refund.Return.ReturnId);
        var refundNote = Assert.Single(await h.InvoicesOf(refundSale)).GetProperty("id").GetInt32();
        await h.Http.CallAsync("account.invoice", "post", [new[] { refundNote }]);
        var creditSale = await ExistingReturnSaleAsync(h, credit.SaleId, "SHOPIFY-RET-" + credit.Return.ReturnId);
        var creditNote = Assert.Single(await h.InvoicesOf(creditSale)).GetProperty("id").GetInt32();
        var before = await SnapshotAsync(h);
        // The snapshot holds what the existing process made, with Tryton's write dates.
        Assert.Contains("\"write_date\"", before[$"account.invoice/{refundNote}"], StringComparison.Ordinal);
        Assert.Contains($"sale.sale/{creditSale}", before.Keys);

        var sent = new List<JsonObject>();
        foreach (var (r, _) in new[] { refund, credit, exchange })
        {
            await PlayAsync(h, r, sent);
        }

        Assert.Empty(Differences(before, await SnapshotAsync(h)));
        Assert.All(new[] { refund, credit, exchange }, x => Assert.Empty(h.Loop.GetNotes(x.Return.ReturnId)));
        Assert.Empty(await h.ExceptionRecordsAsync());

        // The report: every document of the accounting model with the amounts the Loop payloads give.
        var figures = LoopReturnPayloads.FromWebhooks(sent).ToDictionary(p => p.ReturnId, p => ExpectedBooks.For(p).Figures, StringComparer.Ordinal);
        var report = await h.Services.GetRequiredService<ShadowReportBuilder>().BuildAsync(CancellationToken.None);
        foreach (var (r, _) in new[] { refund, credit, exchange })
        {
            var f = figures[r.ReturnId];
            Assert.Equal(f.Net, Row(report, r.ReturnId, "return sale").Planned);
            Assert.Equal(f.Value - f.HandlingFee, Row(report, r.ReturnId, "credit note").Planned);
        }

        Assert.Equal(figures[refund.Return.ReturnId].Refund, Row(report, refund.Return.ReturnId, LoopReferences.RefundPayment).Planned);
        Assert.Equal(figures[credit.Return.ReturnId].GiftCard - figures[credit.Return.ReturnId].Bonus, Row(report, credit.Return.ReturnId, LoopReferences.StoreCredit).Planned);
        // Matched where the existing process made the documents; the plan went past the adopted return sales.
        Assert.Equal(
            (ShadowVerdict.Matched, "SHOPIFY-RET-" + refund.Return.ReturnId, ShadowPlanCoverage.NoneNeeded),
            (Row(report, refund.Return.ReturnId, "return sale").Verdict, Row(report, refund.Return.ReturnId, "return sale").Existing, Row(report, refund.Return.ReturnId, "return sale").Write));
        Assert.Equal((ShadowVerdict.Matched, -figures[refund.Return.ReturnId].Value), (Row(report, refund.Return.ReturnId, "credit note").Verdict, Row(report, refund.Return.ReturnId, "credit note").ExistingAmount));
        Assert.Equal("planned: account.move.create", Row(report, refund.Return.ReturnId, LoopReferences.RefundPayment).Write);
        Assert.Equal((ShadowVerdict.Matched, "planned: account.invoice.write"), (Row(report, credit.Return.ReturnId, "credit note").Verdict, Row(report, credit.Return.ReturnId, "credit note").Write));
        Assert.StartsWith("not planned: it needs what account.invoice.write", Row(report, credit.Return.ReturnId, LoopReferences.StoreCredit).Write, StringComparison.Ordinal);
        Assert.Equal((ShadowVerdict.MissingInFulfil, "planned: sale.sale.return_order"), (Row(report, exchange.Return.ReturnId, "return sale").Verdict, Row(report, exchange.Return.ReturnId, "return sale").Write));
        Assert.StartsWith("not planned: it needs what sale.sale.return_order", Row(report, exchange.Return.ReturnId, "credit note").Write, StringComparison.Ordinal);

        // Live: a restart with Integration__Mode=Live, then Loop's next event for each return.
        h.Services.GetRequiredService<IOptionsMonitor<IntegrationOptions>>().CurrentValue.Mode = IntegrationMode.Live;
        foreach (var (r, _) in new[] { refund, credit, exchange })
        {
            await h.SendAsync(r.Webhook("return.updated", "closed", 180));
        }

        await h.DeliverExchangesAsync();

        // Exactly one return sale and one credit note per return: the existing process's where it made them.
        Assert.Equal(refundSale, await OneReturnSaleAsync(h, refund.SaleId));
        Assert.Equal(creditSale, await OneReturnSaleAsync(h, credit.SaleId));
        var exchangeSale = await OneReturnSaleAsync(h, exchange.SaleId);
        Assert.Equal(refundNote, await OneCreditNoteAsync(h, refundSale, refund.Return.ReturnId));
        Assert.Equal(creditNote, await OneCreditNoteAsync(h, creditSale, credit.Return.ReturnId));
        await OneCreditNoteAsync(h, exchangeSale, exchange.Return.ReturnId);
        Assert.Single(await h.Rows("account.move", [new object[] { "description", "=", $"LOOP-{refund.Return.ReturnId}-{LoopReferences.RefundPayment}" }, new object[] { "state", "=", "posted" }]));
        Assert.Single(await h.Rows("account.move", [new object[] { "description", "=", $"LOOP-{credit.Return.ReturnId}-{LoopReferences.StoreCredit}" }, new object[] { "state", "=", "posted" }]));
        Assert.Single(await h.Rows("sale.sale", [new object[] { "reference", "like", $"LOOP-{exchange.Return.ReturnId}-EXC%" }]));

        // The books, from the Loop payloads alone (docs/accounting.md rows 1, 4 and 6), to the cent.
        var chart = BookChart.From(TrytonEngine.Codes.Receivable, TrytonEngine.Codes.Revenue, TrytonEngine.Codes.Tax, h.Settings);
        var expected = chart.ByCode(ExpectedBooks.Sum(LoopReturnPayloads.FromWebhooks(sent).Select(p => ExpectedBooks.For(p))));
        var actual = await books.BalancesAsync(watermark);
        Assert.Equal(Text(expected, chart.Codes.Union(expected.Keys)), Text(actual, chart.Codes.Union(expected.Keys)));
        Assert.Empty(await h.ExceptionRecordsAsync());
        // The same comparison sees what live mode wrote: it could have failed in shadow mode.
        var written = Differences(before, await SnapshotAsync(h));
        Assert.Contains(written, d => d.StartsWith("created account.move/", StringComparison.Ordinal));
        Assert.Contains(written, d => d.StartsWith($"changed account.invoice/{creditNote}:", StringComparison.Ordinal));
    }

    /// <summary>A shipped Tryton sale of the scenario's items and the scenario's one Loop return on it.</summary>
    private static async Task<(BooksReturn Return, int SaleId)> OrderAsync(TrytonHarness h, BooksScenario scenario)
    {
        var orderName = TrytonHarness.UniqueOrderName();
        var sale = await h.CreateShippedSaleAsync(orderName, "Demo Customer A", scenario.Sale);
        return (new BooksReturn(orderName, Assert.Single(scenario.Returns)), sale);
    }

    /// <summary>What the existing process does for a return of one tee: Fulfil's return_order with its own identifier; Tryton makes the rest.</summary>
    private static async Task<int> ExistingReturnSaleAsync(TrytonHarness h, int sale, string name)
    {
        var line = Assert.Single(await h.Rows("sale.line", [new object[] { "sale", "=", sale }, new object[] { "description", "=", Tee }])).GetProperty("id").GetInt32();
        var args = new Dictionary<string, object?>
        {
            ["channel_identifier"] = name, ["reference"] = name, ["warehouse"] = h.Engine.WarehouseId,
            ["lines"] = new[] { new Dictionary<string, object?> { ["order_line_id"] = line, ["return_quantity"] = new TrytonFloat(1m), ["unit_price"] = Price } },
        };
        await h.Http.CallOnRecordAsync("sale.sale", sale, "return_order", [args]);
        return await h.IdOf("sale.sale", "channel_identifier", name);
    }

    /// <summary>Loop and the warehouse on one return, as signed webhooks through the host: created, inspected, closed (processed), gift card.</summary>
    private static async Task PlayAsync(TrytonHarness h, BooksReturn r, List<JsonObject> sent)
    {
        h.Loop.AddReturn(r.Json("open", 0), sendCreatedWebhook: false);
        await SendAsync(h, r.CreatedWebhook(), sent);
        await h.InspectAsync(r.ReturnId, [.. r.Spec.Passed!.Select((passed, i) => new LineInspection(r.Line(i + 1), passed, passed ? "back_to_stock" : "junk"))]);
        var closed = r.ClosedWebhook(processed: true);
        h.Loop.AddReturn(r.Json("closed", 120), sendCreatedWebhook: false);
        await SendAsync(h, closed, sent);
        if (r.Spec.GiftCard is { } card)
        {
            await SendAsync(h, Encoding.UTF8.GetBytes(LoopPayloads.GiftCardRequested(r.ReturnId, card.Total, card.Bonus, card.Tax).ToJsonString()), sent);
        }
    }

    private static async Task SendAsync(TrytonHarness h, byte[] body, List<JsonObject> sent)
    {
        sent.Add(JsonNode.Parse(body)!.AsObject());
        await h.SendAsync(body);
    }

    /// <summary>Every record of every written model as Tryton returns it (id, create and write dates, the telling fields).</summary>
    private static async Task<SortedDictionary<string, string>> SnapshotAsync(TrytonHarness h)
    {
        var records = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (model, fields) in WrittenModels)
        {
            foreach (var row in await h.Rows(model, [], ["create_date", "write_date", .. fields]))
            {
                records[model + "/" + row.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture)] = row.GetRawText();
            }
        }

        return records;
    }

    private static List<string> Differences(SortedDictionary<string, string> before, SortedDictionary<string, string> after) =>
    [
        .. after.Where(kv => !before.ContainsKey(kv.Key)).Select(kv => "created " + kv.Key + " " + kv.Value),
        .. before.Where(kv => !after.ContainsKey(kv.Key)).Select(kv => "deleted " + kv.Key),
        .. before.Where(kv => after.TryGetValue(kv.Key, out var now) && now != kv.Value).Select(kv => $"changed {kv.Key}: {kv.Value} → {after[kv.Key]}"),
    ];

    private static async Task<int> OneReturnSaleAsync(TrytonHarness h, int originalSale) =>
        Assert.Single(await h.Rows("sale.sale", [new object[] { "origin_sale", "=", originalSale }, new object[] { "state", "!=", "cancelled" }])).GetProperty("id").GetInt32();

    /// <summary>The one posted credit note of a return: its return sale's, and no other invoice carrying <c>LOOP-{id}-CN</c>.</summary>
    private static async Task<int> OneCreditNoteAsync(TrytonHarness h, int returnSale, string returnId)
    {
        var note = Assert.Single(await h.InvoicesOf(returnSale), i => i.GetProperty("state").GetString() != "cancelled");
        Assert.Contains(note.GetProperty("state").GetString() ?? "", DoneStates);
        var id = note.GetProperty("id").GetInt32();
        Assert.All(await h.Rows("account.invoice", [new object[] { "reference", "=", $"LOOP-{returnId}-CN" }]), i => Assert.Equal(id, i.GetProperty("id").GetInt32()));
        return id;
    }

    private static ShadowReportRow Row(ShadowReport report, string returnId, string document) =>
        Assert.Single(report.Rows, r => r.ReturnId == returnId && r.Document == document);

    private static string Text(IReadOnlyDictionary<string, decimal> balances, IEnumerable<string> codes) =>
        string.Join('\n', codes.Order(StringComparer.Ordinal).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c}: {balances.GetValueOrDefault(c):0.00}")));
}
