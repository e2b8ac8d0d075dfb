using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Demo;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Books;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Tryton;

namespace LoopFulfil.Tests.Books;

/// <summary>
/// The books test of issue #15: each row of docs/accounting.md played on the real engine (Tryton 6.0 behind the
/// Fulfil façade, Loop simulated), sent as signed webhooks through the host. The expected balance of each account is
/// computed from the Loop payloads alone (<see cref="ExpectedBooks"/>) and compared to the cent with the posted move
/// lines Tryton made during the scenario; each return must have exactly one credit document per money outcome, the
/// trial balance must balance, and the stock per location must follow the inspection verdicts.
/// Rows the code does not follow yet are skipped with the gap of #15 that fixes them and the figures that differ.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class BooksOnTrytonTests(TrytonFixture fixture)
{
    private static readonly string[] Locations = [TrytonEngine.Codes.Quarantine, TrytonEngine.Codes.Sellable, TrytonEngine.Codes.Damaged];

    [Fact]
    public Task Row_01_refund_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.Refund(lineCarriesValue: true));

    [Fact]
    public Task Row_01_refund_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.Refund(lineCarriesValue: false));

    [Fact]
    public Task Row_02_handling_fee_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.HandlingFee(lineCarriesValue: true));

    [Fact]
    public Task Row_02_handling_fee_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.HandlingFee(lineCarriesValue: false));

    [Fact]
    public Task Row_04_store_credit_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.StoreCredit(lineCarriesValue: true));

    [Fact]
    public Task Row_04_store_credit_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.StoreCredit(lineCarriesValue: false));

    [Fact]
    public Task Row_05_store_credit_with_bonus_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.StoreCreditWithBonus(lineCarriesValue: true));

    [Fact]
    public Task Row_05_store_credit_with_bonus_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.StoreCreditWithBonus(lineCarriesValue: false));

    [Fact]
    public Task Row_06_even_exchange_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.EvenExchange(lineCarriesValue: true));

    [Fact]
    public Task Row_06_even_exchange_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.EvenExchange(lineCarriesValue: false));

    [Fact]
    public Task Row_07_exchange_with_upsell_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.Upsell(lineCarriesValue: true));

    [Fact]
    public Task Row_07_exchange_with_upsell_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.Upsell(lineCarriesValue: false));

    [Fact]
    public Task Row_08_exchange_with_the_difference_refunded_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.ExchangeForLess(lineCarriesValue: true));

    [Fact]
    public Task Row_08_exchange_with_the_difference_refunded_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.ExchangeForLess(lineCarriesValue: false));

    [Fact]
    public Task Row_09_mixed_lines_with_line_refund_carrying_the_value() => AssertBooksAsync(BooksScenarios.Mixed(lineCarriesValue: true));

    [Fact]
    public Task Row_09_mixed_lines_with_line_refund_zero() => AssertBooksAsync(BooksScenarios.Mixed(lineCarriesValue: false));

    [Fact]
    public Task Row_10_two_partial_returns_on_one_order_line() => AssertBooksAsync(BooksScenarios.TwoReturnsOnOneOrder());

    [Fact]
    public Task Row_11_cancelled_after_authorisation() => AssertBooksAsync(BooksScenarios.CancelledAfterAuthorisation());

    [Fact]
    public Task Row_12_closed_without_processing() => AssertBooksAsync(BooksScenarios.ClosedWithoutProcessing());

    [Fact]
    public async Task Books_reader_sees_a_posted_sale_invoice_and_its_shipment_from_the_watermark_on()
    {
        // The reader itself, on figures the test makes: two tees at 25.00 with 10% tax, invoiced (posted) and shipped.
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var books = new TrytonBooks(h.Http);
        string[] skus = [BooksScenarios.Tee, BooksScenarios.TeeL];
        var stockBefore = await books.StockAsync(skus, Locations);
        var watermark = await books.WatermarkAsync();

        await h.CreateShippedSaleAsync(TrytonHarness.UniqueOrderName(), "Demo Customer A", (BooksScenarios.Tee, 1m, 25.00m), (BooksScenarios.TeeL, 1m, 25.00m));

        var balances = await books.BalancesAsync(watermark);
        Assert.Equal(55.00m, balances[TrytonEngine.Codes.Receivable]);
        Assert.Equal(-50.00m, balances[TrytonEngine.Codes.Revenue]);
        Assert.Equal(-5.00m, balances[TrytonEngine.Codes.Tax]);
        Assert.Equal(0m, balances.Values.Sum());
        Assert.True((await books.TrialBalanceAsync()).Balances);
        var stockAfter = await books.StockAsync(skus, Locations);
        Assert.All(skus, sku => Assert.Equal(stockBefore[(sku, TrytonEngine.Codes.Sellable)] - 1m, stockAfter[(sku, TrytonEngine.Codes.Sellable)]));
        Assert.Empty(await books.BalancesAsync(await books.WatermarkAsync()));
    }

    /// <summary>Plays the scenario, then compares Tryton's books with the oracle's as two texts (the diff is the finding).</summary>
    private async Task AssertBooksAsync(BooksScenario scenario)
    {
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var books = new TrytonBooks(h.Http);
        var chart = BookChart.From(TrytonEngine.Codes.Receivable, TrytonEngine.Codes.Revenue, TrytonEngine.Codes.Tax, h.Settings);
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", scenario.Sale);

        var returns = scenario.Returns.Select(spec => new BooksReturn(orderName, spec)).ToList();
        var skus = scenario.Sale.Select(s => s.Sku).Concat(returns.SelectMany(r => Skus(r.Json("open", 0), "exchanges"))).Distinct(StringComparer.Ordinal).ToList();
        var stockBefore = await books.StockAsync(skus, Locations);
        var watermark = await books.WatermarkAsync();

        var sent = new List<JsonObject>();
        foreach (var r in returns)
        {
            await PlayAsync(h, r, sent);
        }

        var expected = LoopReturnPayloads.FromWebhooks(sent).Select(p => ExpectedBooks.For(p)).ToList();
        var actualBalances = await books.BalancesAsync(watermark);
        var stockAfter = await books.StockAsync(skus, Locations);
        var expectedText = new StringBuilder();
        var actualText = new StringBuilder();
        Section("balances (debit − credit)");
        var expectedByCode = chart.ByCode(ExpectedBooks.Sum(expected));
        foreach (var code in chart.Codes.Union(expectedByCode.Keys).Order(StringComparer.Ordinal))
        {
            Line($"  {code}", Money(expectedByCode.GetValueOrDefault(code)), Money(actualBalances.GetValueOrDefault(code)));
        }

        Line("  Σ every account of the scenario", Money(0m), Money(actualBalances.Values.Sum()));
        var trial = await books.TrialBalanceAsync();
        Line("  trial balance of posted moves (debit − credit)", Money(0m), Money(trial.Debit - trial.Credit));
        Section("posted documents (credit notes, store credit, exchange invoices)");
        foreach (var e in expected)
        {
            var d = await books.DocumentsAsync(e.ReturnId);
            Line($"  return {Order(returns, e.ReturnId)} ({e.Fate})", $"{e.CreditNotes} {e.StoreCreditEntries} {e.ExchangeInvoices}", $"{d.CreditNotes} {d.StoreCreditEntries} {d.ExchangeInvoices}");
        }

        Section("receivable settled (LOOP-{id}-SETTLE: every return with a credit note)");
        foreach (var e in expected)
        {
            var settled = (await h.Rows("account.move.reconciliation", [new object[] { "name", "=", LoopReferences.Default.Of(e.ReturnId, LoopReferences.Settlement) }])).Count;
            Line($"  return {Order(returns, e.ReturnId)} ({e.Fate})", Qty(e.CreditNotes), Qty(settled));
        }

        Section("stock moved (QUAR STOR DMG)");
        var expectedStock = ExpectedStock(returns, skus);
        foreach (var sku in skus)
        {
            Line($"  {sku}", string.Join(' ', Locations.Select(l => Qty(expectedStock[(sku, l)]))), string.Join(' ', Locations.Select(l => Qty(stockAfter[(sku, l)] - stockBefore[(sku, l)]))));
        }

        var exceptions = await h.ExceptionRecordsAsync();
        Assert.True(
            expectedText.ToString() == actualText.ToString(),
            $"{scenario.Name}: Tryton's books differ from docs/accounting.md.{Environment.NewLine}Loop figures: {string.Join("; ", expected.Select(e => e.Figures))}{Environment.NewLine}"
            + $"Exceptions raised: [{string.Join(", ", exceptions.Select(x => $"{x.Category}: {x.Message}"))}]{Environment.NewLine}{Comparison(expectedText, actualText)}");

        void Section(string title)
        {
            expectedText.AppendLine(title);
            actualText.AppendLine(title);
        }

        void Line(string label, string expectedValue, string actualValue)
        {
            expectedText.AppendLine(CultureInfo.InvariantCulture, $"{label}: {expectedValue}");
            actualText.AppendLine(CultureInfo.InvariantCulture, $"{label}: {actualValue}");
        }
    }

    /// <summary>What Loop and the warehouse do to one return, as webhooks through the host; <paramref name="sent"/> collects the bodies.</summary>
    private static async Task PlayAsync(TrytonHarness h, BooksReturn r, List<JsonObject> sent)
    {
        h.Loop.AddReturn(r.Json("open", 0), sendCreatedWebhook: false);
        await SendAsync(h, r.CreatedWebhook(), sent);
        switch (r.Spec.Ending)
        {
            case BooksEnding.Cancelled:
                h.Loop.SetState(r.ReturnId, "cancelled", sendWebhook: false);
                await SendAsync(h, r.CancelledWebhook(), sent);
                return;
            case BooksEnding.ClosedWithoutProcessing:
                h.Loop.CloseWithoutProcessing(r.ReturnId, sendWebhook: false);
                await SendAsync(h, r.ClosedWebhook(processed: false), sent);
                return;
        }

        if (r.Spec.Passed is { } verdicts)
        {
            await h.InspectAsync(r.ReturnId, [.. verdicts.Select((passed, i) => new LineInspection(r.Line(i + 1), passed, passed ? "back_to_stock" : "junk"))]);
        }

        var closed = r.ClosedWebhook(processed: true);
        h.Loop.AddReturn(r.Json("closed", 120), sendCreatedWebhook: false);
        await SendAsync(h, closed, sent);
        if (r.Spec.GiftCard is { } card)
        {
            await SendAsync(h, Encoding.UTF8.GetBytes(LoopPayloads.GiftCardRequested(r.ReturnId, card.Total, card.Bonus, card.Tax).ToJsonString()), sent);
        }

        await h.DeliverExchangesAsync();
    }

    private static async Task SendAsync(TrytonHarness h, byte[] body, List<JsonObject> sent)
    {
        sent.Add(JsonNode.Parse(body)!.AsObject());
        await h.SendAsync(body);
    }

    /// <summary>Inspection verdicts decide where units rest: back to stock → STOR, damaged → DMG, nothing left in QUAR.</summary>
    private static Dictionary<(string Sku, string Location), decimal> ExpectedStock(IEnumerable<BooksReturn> returns, IEnumerable<string> skus)
    {
        var moved = skus.SelectMany(s => Locations.Select(l => (s, l))).ToDictionary(k => k, _ => 0m);
        foreach (var r in returns.Where(r => r.Spec.Ending == BooksEnding.Processed && r.Spec.Passed is not null))
        {
            var units = Skus(r.Json("open", 0), "line_items");
            for (var i = 0; i < units.Count; i++)
            {
                moved[(units[i], r.Spec.Passed![i] ? TrytonEngine.Codes.Sellable : TrytonEngine.Codes.Damaged)] += 1m;
            }
        }

        return moved;
    }

    private static List<string> Skus(JsonObject payload, string array) =>
        [.. (payload[array] as JsonArray ?? []).OfType<JsonObject>().Select(o => o["sku"]!.GetValue<string>())];

    private static string Order(List<BooksReturn> returns, string returnId) =>
        (returns.FindIndex(r => r.ReturnId == returnId) + 1).ToString(CultureInfo.InvariantCulture);

    private static string Comparison(StringBuilder expected, StringBuilder actual)
    {
        var e = expected.ToString().Split(Environment.NewLine);
        var a = actual.ToString().Split(Environment.NewLine);
        var text = new StringBuilder("expected (docs/accounting.md from the payloads) | Tryton").AppendLine();
        for (var i = 0; i < Math.Min(e.Length, a.Length); i++)
        {
            text.AppendLine(e[i] == a[i] ? "  " + e[i] : $"≠ {e[i]} | Tryton {a[i][(a[i].LastIndexOf(": ", StringComparison.Ordinal) + 2)..]}");
        }

        return text.ToString();
    }

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Qty(decimal quantity) => quantity.ToString("+0;-0;0", CultureInfo.InvariantCulture);
}
