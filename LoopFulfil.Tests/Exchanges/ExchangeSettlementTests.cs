using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Exchanges;

/// <summary>
/// docs/accounting.md rows 6–8 on the simulator: the exchange is booked once. The credit note for the returned units
/// settles the exchange invoice on the customer's receivable (one reconciliation <c>LOOP-{id}-SETTLE</c>); upsell is a
/// payment on the exchange invoice; a refunded difference is a refund payment. Every expected figure comes from the
/// Loop payload (V = return_total, X = exchange_total, U = upsell, R = refund). The simulator has no taxes, so the
/// payloads carry none here; the Tryton tests carry 10%.
/// </summary>
public sealed class ExchangeSettlementTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Receivable = FulfilSandboxDemo.ReceivableAccountCode;

    [Fact]
    public async Task Even_exchange_credit_note_settles_the_exchange_invoice_so_the_receivable_nets_to_zero_and_revenue_is_booked_once()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);
        var party = PartyOf(h, "#1001");
        var receivableBefore = h.Fulfil.State.Balance(Receivable, party);

        await CloseAndShipExchangeAsync(h, r);

        var settled = AssertSettled(h, r, f, party, receivableBefore);
        Assert.Equal(2, settled.Lines.Count);
    }

    [Fact]
    public async Task Exchange_with_upsell_books_the_upsell_as_a_payment_on_the_exchange_invoice_not_as_revenue_or_clearing_alone()
    {
        await using var h = await OutcomesHarness.StartAsync();
        const decimal returned = 25.00m, exchanged = 33.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, returned, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, exchanged).WithUpsell(exchanged - returned)).AddTo(h.Loop);
        var f = Figures.Of(r);
        var party = PartyOf(h, "#1001");
        var receivableBefore = h.Fulfil.State.Balance(Receivable, party);

        await CloseAndShipExchangeAsync(h, r);

        var settled = AssertSettled(h, r, f, party, receivableBefore);
        Assert.Equal(3, settled.Lines.Count);
        var upsell = Assert.Single(h.Journals(r.ReturnId, "UPSELL"));
        Assert.Equal("posted", upsell.State);
        var lines = h.JournalLines(upsell.Id);
        Assert.Equal(f.U, lines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode)).Number("debit"));
        var paid = lines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(Receivable));
        Assert.Equal((f.U, 0m, party), (paid.Number("credit"), paid.Number("debit"), paid.Ref("party")));
        Assert.DoesNotContain(lines, l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.RevenueAccountCode));
    }

    [Fact]
    public async Task Exchange_with_the_difference_refunded_nets_with_the_refund_payment_of_the_difference()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 20.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);
        Assert.Equal(f.V - f.X, f.R);
        var party = PartyOf(h, "#1001");
        var receivableBefore = h.Fulfil.State.Balance(Receivable, party);

        await CloseAndShipExchangeAsync(h, r);
        await h.SendAsync(r.Webhook("return.updated", "closed", 150));

        // Credit note −V, exchange invoice +X and the refunds stage's payment LOOP-{id}-RF of R net to zero, once.
        var payment = Assert.Single(h.Journals(r.ReturnId, "RF"));
        Assert.Equal(f.R, h.JournalLines(payment.Id).Sum(l => l.Number("debit")));
        var settled = AssertSettled(h, r, f, party, receivableBefore);
        Assert.Equal(3, settled.Lines.Count);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Every_event_and_exchange_delivered_three_times_still_makes_one_credit_note_one_upsell_payment_and_one_reconciliation()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 30.00m).WithUpsell(5.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);
        var party = PartyOf(h, "#1001");
        var receivableBefore = h.Fulfil.State.Balance(Receivable, party);

        for (var i = 0; i < 3; i++)
        {
            await h.SendAsync(r.Created_());
        }

        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        for (var i = 0; i < 3; i++)
        {
            await h.SendAsync(r.Closed());
        }

        await h.DeliverExchangeAsync(Assert.Single(h.TakeExchangeMessages()), times: 3);
        await h.SendAsync(r.Webhook("return.updated", "closed", 150));

        AssertSettled(h, r, f, party, receivableBefore);
        Assert.Single(h.Journals(r.ReturnId, "UPSELL"));
        Assert.Single(h.Fulfil.State.Reconciliations());
    }

    [Fact]
    public async Task Exchange_whose_documents_do_not_net_raises_amount_mismatch_for_finance_and_reconciles_nothing()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // Loop says the customer paid 5.00 more, but the exchange item costs 8.00 more than the returned one.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 33.00m).WithUpsell(5.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);

        await CloseAndShipExchangeAsync(h, r);

        Assert.Empty(h.Fulfil.State.Reconciliations());
        var mismatch = Assert.Single(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.AmountMismatch);
        Assert.Contains(Money(f.X - f.V - f.U), mismatch.Message, StringComparison.Ordinal);
    }

    private static async Task CloseAndShipExchangeAsync(OutcomesHarness h, OutcomeReturn r)
    {
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        var message = Assert.Single(h.TakeExchangeMessages());
        Assert.Equal(ExchangeOutcome.Created, Assert.Single(await h.DeliverExchangeAsync(message)).Outcome);
    }

    /// <summary>
    /// The books of rows 6–8 from the payload: one credit note of −V and one exchange invoice of +X, both settled; the
    /// exchange item's revenue once (X less its tax); the reconciliation <c>LOOP-{id}-SETTLE</c> joins debits X + R
    /// and credits V + U on the customer's receivable, whose balance is back where it was.
    /// </summary>
    private static Settled AssertSettled(OutcomesHarness h, OutcomeReturn r, Figures f, int party, decimal receivableBefore)
    {
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal((-f.V, "paid"), (note.Number("total_amount"), note.State));
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        var invoice = Assert.Single(h.Fulfil.State.Where("account.invoice", i => i.GetValueOrDefault("sales") is List<int> s && s.Contains(order.Id)));
        Assert.Equal((f.X, "paid"), (invoice.Number("total_amount"), invoice.State));
        var revenue = h.Fulfil.State.AccountId(FulfilSandboxDemo.RevenueAccountCode);
        Assert.Equal(f.X - f.ExchangeTax, h.Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), invoice.Ref("move")) && Equals(l.GetValueOrDefault("account"), revenue)).Sum(l => l.Number("credit")));

        var reconciliation = Assert.Single(h.Fulfil.State.Reconciliations());
        Assert.Equal(LoopReferences.Default.Of(r.ReturnId, LoopReferences.Settlement), reconciliation.Text("name"));
        var lines = h.Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("reconciliation"), reconciliation.Id));
        Assert.All(lines, l => Assert.Equal((h.Fulfil.State.AccountId(Receivable), party), (l.Ref("account"), l.Ref("party"))));
        Assert.Equal((f.X + f.R, f.V + f.U), (lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit"))));
        Assert.Equal(receivableBefore, h.Fulfil.State.Balance(Receivable, party));
        return new Settled(lines);
    }

    private static int PartyOf(OutcomesHarness h, string orderName) =>
        Assert.Single(h.Fulfil.State.FindByReference("sale.sale", orderName), s => !Equals(s["is_return"], true)).Ref("party")!.Value;

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private sealed record Settled(IReadOnlyList<FulfilSandboxRecord> Lines);

    /// <summary>Loop's money figures of the closed return, read from the payload itself.</summary>
    private sealed record Figures(decimal V, decimal X, decimal U, decimal R, decimal ExchangeTax)
    {
        public static Figures Of(OutcomeReturn r)
        {
            var json = r.Json("closed", 120);
            decimal D(string field) => decimal.Parse(json[field]!.GetValue<string>(), CultureInfo.InvariantCulture);
            return new(D("return_total"), D("exchange_total"), D("upsell"), D("refund"), D("exchange_tax_total"));
        }
    }
}
