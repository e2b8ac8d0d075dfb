using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Refunds;

/// <summary>
/// Every processed return with a credit note is settled on the customer receivable (docs/accounting.md rows 1–5, not
/// only the exchanges of rows 6–8): one reconciliation <c>LOOP-{id}-SETTLE</c> of the credit note with what paid it.
/// Expected figures are read from the Loop payload (V = return_total, F = handling_fee, R = refund, G = gift_card).
/// </summary>
public sealed class ReturnSettlementTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Receivable = FulfilSandboxDemo.ReceivableAccountCode;

    [Fact]
    public async Task Refund_to_original_payment_reconciles_the_credit_note_with_the_refund_payment_so_the_credit_note_is_paid()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        var f = Figures.Of(r);
        var party = PartyOf(h, "#1001");
        var before = h.Fulfil.State.Balance(Receivable, party);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());

        Assert.Equal((-f.V, "paid"), (Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"), Assert.Single(h.CreditNotes(r.ReturnId)).State));
        var lines = SettledLines(h, r, party);
        Assert.Equal((f.R, f.V), (lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit"))));
        Assert.Equal(before, h.Fulfil.State.Balance(Receivable, party));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Store_credit_return_reconciles_the_credit_note_with_the_store_credit_journal()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithGiftCard(25.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);
        var party = PartyOf(h, "#1001");

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var lines = SettledLines(h, r, party);
        Assert.Equal((f.G, f.V), (lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit"))));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Credit_note_fulfil_posted_before_loopfulfil_saw_it_keeps_its_total_and_the_fee_is_its_own_journal_so_the_return_settles()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        const decimal fee = 2.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)).WithHandlingFee(fee)).AddTo(h.Loop);
        var f = Figures.Of(r);
        Assert.Equal(f.V - f.F, f.R);
        var party = PartyOf(h, "#1001");
        var before = h.Fulfil.State.Balance(Receivable, party);

        await h.SendAsync(r.Created_());
        // Fulfil posts the credit note it made for the return sale before LoopFulfil gets to it: read-only from now on.
        var erpNote = Assert.Single(h.Fulfil.State.All("account.invoice"));
        h.Fulfil.State.PostInvoice(erpNote.Id);
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        Assert.Empty(await h.ExceptionRecordsAsync());
        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal((erpNote.Id, -f.V, "paid"), (note.Id, note.Number("total_amount"), note.State));
        var feeJournal = Assert.Single(h.Journals(r.ReturnId, LoopReferences.HandlingFee));
        var feeLines = h.JournalLines(feeJournal.Id);
        Assert.Equal((f.F, party), (feeLines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(Receivable)).Number("debit"), feeLines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(Receivable)).Ref("party")));
        Assert.Equal(f.F, feeLines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.ReturnFeeAccountCode)).Number("credit"));
        Assert.Equal(f.R, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("debit")));
        var lines = SettledLines(h, r, party);
        Assert.Equal((f.F + f.R, f.V), (lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit"))));
        Assert.Equal(before, h.Fulfil.State.Balance(Receivable, party));
    }

    [Fact]
    public async Task Scheduled_mode_settlement_waits_for_a_store_credit_journal_not_yet_posted_instead_of_raising_a_mismatch()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:PostingMode"] = "Scheduled" });
        // Exchange of 20.00 for a 25.00 unit, the 5.00 left as store credit: V = X + G.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 20.00m).WithGiftCard(5.00m)).AddTo(h.Loop);
        var f = Figures.Of(r);
        Assert.Equal(f.V, f.X + f.G);
        var party = PartyOf(h, "#1001");
        var before = h.Fulfil.State.Balance(Receivable, party);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        await h.DeliverExchangeAsync(Assert.Single(h.TakeExchangeMessages()));
        // The batch posts the credit note; the store credit is still pending when the next event arrives.
        using (var scope = h.Services.CreateScope())
        {
            var note = (await h.Postings.GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None))!;
            await scope.ServiceProvider.GetRequiredService<RefundPoster>().PostAsync(note, CancellationToken.None);
        }

        await h.SendAsync(r.Webhook("return.updated", "closed", 150));

        Assert.Empty(await h.ExceptionRecordsAsync());
        Assert.Empty(h.Fulfil.State.Reconciliations());

        using (var scope = h.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }

        await h.DrainAsync();
        await h.SendAsync(r.Webhook("return.updated", "closed", 160));

        var lines = SettledLines(h, r, party);
        Assert.Equal((f.X + f.G, f.V), (lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit"))));
        Assert.Equal(before, h.Fulfil.State.Balance(Receivable, party));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    /// <summary>The one reconciliation of the return, on the customer's receivable: its lines.</summary>
    private static IReadOnlyList<FulfilSandboxRecord> SettledLines(OutcomesHarness h, OutcomeReturn r, int party)
    {
        var reconciliation = Assert.Single(h.Fulfil.State.Reconciliations());
        Assert.Equal($"LOOP-{r.ReturnId}-SETTLE", reconciliation.Text("name"));
        var lines = h.Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("reconciliation"), reconciliation.Id));
        Assert.All(lines, l => Assert.Equal((h.Fulfil.State.AccountId(Receivable), party), (l.Ref("account"), l.Ref("party"))));
        return lines;
    }

    private static int PartyOf(OutcomesHarness h, string orderName) =>
        Assert.Single(h.Fulfil.State.FindByReference("sale.sale", orderName), s => !Equals(s["is_return"], true)).Ref("party")!.Value;

    /// <summary>Loop's money figures of the closed return, read from the payload itself.</summary>
    private sealed record Figures(decimal V, decimal F, decimal R, decimal G, decimal X)
    {
        public static Figures Of(OutcomeReturn r)
        {
            var json = r.Json("closed", 120);
            decimal D(string field) => decimal.Parse(json[field]!.GetValue<string>(), CultureInfo.InvariantCulture);
            return new(D("return_total"), D("handling_fee"), D("refund"), D("gift_card"), D("exchange_total"));
        }
    }
}
