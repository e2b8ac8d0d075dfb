using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Outcomes;
using LoopFulfil.Tests.Tryton;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Exchanges;

/// <summary>
/// docs/accounting.md rows 6, 7 and 8 on the real engine (Tryton 6.0 behind the façade, 10% sales tax): Tryton's own credit
/// note for the return sale and Tryton's own invoice for the exchange sale are reconciled on the customer's receivable
/// by Tryton's <c>account.move.reconciliation</c>, which refuses lines that do not net to zero. Expected figures come
/// from the Loop payload.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonExchangeSettlementTests(TrytonFixture fixture)
{
    private const string Tee = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";

    [Fact]
    public async Task Even_exchange_on_tryton_reconciles_the_credit_note_with_the_taxed_exchange_invoice_and_both_are_paid()
    {
        // Tryton rules: a reconciliation's lines share account and party and net to zero; reconciling every receivable
        // line of an invoice makes it paid.
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var r = await ReturnAsync(h, (b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m, 2.50m));

        await CloseAndShipAsync(h, r);

        await AssertSettledAsync(h, r, lines: 2);
    }

    [Fact]
    public async Task Exchange_with_upsell_on_tryton_pays_the_exchange_invoice_with_the_upsell_from_returns_clearing()
    {
        // Tryton rule: a receivable line needs the party; the upsell payment's receivable line joins the reconciliation.
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var r = await ReturnAsync(h, (b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 30.00m, 3.00m).WithUpsell(5.50m));

        await CloseAndShipAsync(h, r);

        await AssertSettledAsync(h, r, lines: 3);
        var upsell = Assert.Single(await h.Rows("account.move", [new object[] { "description", "=", LoopReferences.Default.Of(r.ReturnId, LoopReferences.Upsell) }], "state", "lines"));
        Assert.Equal("posted", upsell.GetProperty("state").GetString());
        var lines = await h.Rows("account.move.line", [new object[] { "move", "=", upsell.GetProperty("id").GetInt32() }], "account.code", "debit", "credit");
        var u = Figure(r, "upsell");
        Assert.Equal(u, Dec(lines.Single(l => l.GetProperty("account.code").GetString() == TrytonEngine.Codes.ReturnsClearing), "debit"));
        Assert.Equal(u, Dec(lines.Single(l => l.GetProperty("account.code").GetString() == TrytonEngine.Codes.Receivable), "credit"));
    }

    [Fact]
    public async Task Exchange_with_the_difference_refunded_on_tryton_nets_with_the_refund_payment()
    {
        // Tryton rule: an unbalanced set of lines cannot be reconciled; the refunds stage's payment LOOP-{id}-RF makes them net.
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var r = await ReturnAsync(h, (b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 20.00m, 2.00m));
        var refund = Figure(r, "refund");
        Assert.Equal(Figure(r, "return_total") - Figure(r, "exchange_total"), refund);

        await CloseAndShipAsync(h, r);
        await h.SendAsync(r.Webhook("return.updated", "closed", 150));

        var payment = Assert.Single(await h.Rows("account.move", [new object[] { "description", "=", $"LOOP-{r.ReturnId}-RF" }], "state", "lines"));
        Assert.Equal("posted", payment.GetProperty("state").GetString());
        var lines = await h.Rows("account.move.line", [new object[] { "move", "=", payment.GetProperty("id").GetInt32() }], "account.code", "debit", "credit");
        Assert.Equal(refund, Dec(lines.Single(l => l.GetProperty("account.code").GetString() == TrytonEngine.Codes.Receivable), "debit"));
        await AssertSettledAsync(h, r, lines: 3);
    }

    private static async Task<OutcomeReturn> ReturnAsync(TrytonHarness h, Action<Builders.LoopReturnBuilder, OutcomeReturn> configure)
    {
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", (Tee, 1m, 25.00m), (TeeL, 1m, 25.00m));
        return new OutcomeReturn(orderName, configure).AddTo(h.Loop);
    }

    private static async Task CloseAndShipAsync(TrytonHarness h, OutcomeReturn r)
    {
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());
        Assert.Equal(ExchangeOutcome.Created, Assert.Single(await h.DeliverExchangesAsync()).Outcome);
    }

    /// <summary>
    /// From the payload: the credit note reverses V (its tax T), the exchange invoice charges X (its tax once), both
    /// paid; the reconciliation joins debits X + R and credits V + U on the receivable of one party.
    /// </summary>
    private static async Task AssertSettledAsync(TrytonHarness h, OutcomeReturn r, int lines)
    {
        decimal v = Figure(r, "return_total"), t = Figure(r, "return_tax_total"), x = Figure(r, "exchange_total"), tx = Figure(r, "exchange_tax_total"), u = Figure(r, "upsell"), refund = Figure(r, "refund");
        var note = Assert.Single(await h.Rows("account.invoice", [new object[] { "reference", "=", LoopReferences.Default.Of(r.ReturnId, LoopReferences.CreditNote) }], "state", "total_amount", "tax_amount"));
        Assert.Equal((-v, -t, "paid"), (Dec(note, "total_amount"), Dec(note, "tax_amount"), note.GetProperty("state").GetString()));
        var order = await h.IdOf("sale.sale", "reference", LoopReferences.Default.Of(r.ReturnId, ExchangeGroups.OriginalOrderKey));
        var invoice = Assert.Single(await h.InvoicesOf(order));
        Assert.Equal((x, tx, "paid"), (Dec(invoice, "total_amount"), Dec(invoice, "tax_amount"), invoice.GetProperty("state").GetString()));

        var reconciliation = Assert.Single(await h.Rows("account.move.reconciliation", [new object[] { "name", "=", LoopReferences.Default.Of(r.ReturnId, LoopReferences.Settlement) }], "lines"));
        int[] ids = [.. reconciliation.GetProperty("lines").EnumerateArray().Select(e => e.GetInt32())];
        var reconciled = await h.Rows("account.move.line", [new object[] { "id", "in", ids }], "account.code", "party", "debit", "credit");
        Assert.Equal(lines, reconciled.Count);
        Assert.All(reconciled, l => Assert.Equal(TrytonEngine.Codes.Receivable, l.GetProperty("account.code").GetString()));
        Assert.Single(reconciled.Select(l => l.GetProperty("party").GetInt32()).Distinct());
        Assert.Equal((x + refund, v + u), (reconciled.Sum(l => Dec(l, "debit")), reconciled.Sum(l => Dec(l, "credit"))));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    private static decimal Figure(OutcomeReturn r, string field)
    {
        var json = r.Json("closed", 120);
        return decimal.Parse(json[field]!.GetValue<string>(), CultureInfo.InvariantCulture);
    }

    private static decimal Dec(JsonElement row, string field) => row.GetProperty(field).Deserialize<decimal>(TrytonJson.Options);
}
