using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// Reconciliation over real parts: crafted Loop and Fulfil sandbox states (HTTP), the ledger and exception records in
/// Azurite, and the real returns/outcomes handlers repairing what the run re-enqueues.
/// </summary>
public sealed class ReconciliationJobTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Hoodie = "HOOD/GRY:XL";

    private static readonly DateOnly Today = ReconciliationHarness.Today;

    [Fact]
    public async Task Missing_return_order_is_found_and_self_heal_creates_exactly_one_even_when_the_heal_is_delivered_twice()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        // Loop has the return; its return.created webhook never arrived.
        ReconReturn r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).InLoop(h.Loop);

        ReconciliationReport first = await h.ReconcileAsync();

        ReconciliationMismatch missing = Assert.Single(first.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.MissingReturnOrder, missing.Kind);
        Assert.Equal(r.ReturnId, missing.ReturnId);
        Assert.Equal("operations", missing.Owner);
        Assert.True(missing.Healed);
        Assert.Equal(1, first.HealMessagesSent);
        Assert.Empty(h.ReturnOrders(r.ReturnId));

        // Duplicate detection is off on this bus: deliver the heal twice, as a redelivery would.
        OutboundMessage heal = Assert.Single(h.Sent.Messages, m => m.Queue == QueueNames.LoopReturns);
        Assert.Equal(1, h.Bus.Pending);
        await h.DrainAsync();
        await h.Bus.SendAsync(heal, CancellationToken.None);
        await h.DrainAsync();
        ReconciliationReport second = await h.ReconcileAsync();

        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Empty(second.Mismatches);
        Assert.Equal(0, second.HealMessagesSent);
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Self_heal_posts_a_missing_credit_note_exactly_once()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        ReconReturn r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)));
        r.InLoop(h.Loop);
        await h.SendAsync(r.CreatedWebhook());
        // Loop processed the return (refund 50.00 to the original payment) but return.closed was lost.
        r.InLoop(h.Loop, "closed", 120);
        Assert.Empty(h.CreditNotes(r.ReturnId));

        ReconciliationReport report = await h.ReconcileAsync();

        // docs/accounting.md row 1: the credit note and the refund payment that settles it are both missing.
        Assert.Equal([ReconciliationMismatchKind.CreditNoteMismatch, ReconciliationMismatchKind.JournalMismatch], report.Mismatches.Select(m => m.Kind));
        Assert.Equal($"LOOP-{r.ReturnId}-RF", report.Mismatches[1].Reference);
        ReconciliationMismatch cn = report.Mismatches[0];
        Assert.Equal("50.00", cn.Expected);
        Assert.Equal(ReconciliationValues.Missing, cn.Actual);
        Assert.Equal("USD", cn.Currency);
        Assert.Equal("finance", cn.Owner);
        Assert.True(cn.Healed);
        OutboundMessage heal = Assert.Single(h.Sent.Messages, m => m.Queue == QueueNames.LoopReturns);
        Assert.Equal(r.ReturnId, heal.SessionId);
        Assert.StartsWith($"reconcile-{report.RunId}-", heal.MessageId, StringComparison.Ordinal);

        await h.DrainAsync();
        // The same heal again (a redelivery, or tomorrow's run racing a late webhook): still one credit note.
        await h.Bus.SendAsync(heal, CancellationToken.None);
        await h.SendAsync(r.ClosedWebhook());
        ReconciliationReport after = await h.ReconcileAsync();

        FulfilSandboxRecord note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(-50.00m, note.Number("total_amount"));
        Assert.Equal("paid", note.State);
        Assert.Empty(after.Mismatches);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Credit_note_total_different_from_the_cash_refund_is_an_amount_mismatch_for_finance()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        ReconReturn r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        // Someone posted the credit note by hand, for 45.00 instead of 50.00, and the 50.00 refund payment.
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop refund", -1m, 45.00m));
        h.Fulfil.State.AddJournalEntry($"LOOP-{r.ReturnId}-RF", Today, "posted",
            (FulfilSandboxDemo.ReceivableAccountCode, 50.00m, 0m), (FulfilSandboxDemo.ReturnsClearingAccountCode, 0m, 50.00m));

        ReconciliationReport report = await h.ReconcileAsync();

        ReconciliationMismatch m = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.CreditNoteMismatch, m.Kind);
        Assert.Equal(("50.00", "45.00", "USD"), (m.Expected, m.Actual, m.Currency));
        Assert.False(m.Healed);
        ExceptionRecord record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.AmountMismatch, record.Category);
        Assert.Equal("finance", record.Owner);
        Assert.Equal(record.Id, m.ExceptionId);
        Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Store_credit_journal_different_from_loops_store_credit_is_a_journal_mismatch()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        ReconReturn r = new ReconReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop return", -1m, 79.99m));
        h.Fulfil.State.AddJournalEntry($"LOOP-{r.ReturnId}-SC", Today, "posted",
            (FulfilSandboxDemo.ReceivableAccountCode, 70.00m, 0m), (FulfilSandboxDemo.GiftCardLiabilityAccountCode, 0m, 70.00m));

        ReconciliationReport report = await h.ReconcileAsync(ReconciliationMode.Audit);

        ReconciliationMismatch m = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.JournalMismatch, m.Kind);
        Assert.Equal(("79.99", "70.00", "finance"), (m.Expected, m.Actual, m.Owner));
        // Audit is read-only: no heal, no exception record.
        Assert.Empty(await h.ExceptionRecordsAsync());
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Confirmed_exchange_without_its_sales_order_is_reported_for_cx_and_healed_by_resending_the_exchange()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        (ReconReturn r, IReadOnlyList<OutboundMessage> handedOff) = await h.CloseEvenExchangeAsync();
        // The loop-exchanges message was lost (dead-lettered and purged, say).
        Assert.Single(handedOff);

        ReconciliationReport audit = await h.ReconcileAsync(ReconciliationMode.Audit);
        ReconciliationMismatch m = Assert.Single(audit.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.MissingExchangeOrder, m.Kind);
        Assert.Equal(($"LOOP-{r.ReturnId}-EXC", "cx"), (m.Reference, m.Owner));

        ReconciliationReport daily = await h.ReconcileAsync();
        Assert.True(Assert.Single(daily.Mismatches).Healed);
        OutboundMessage resend = Assert.Single(h.TakeExchangeMessages());
        Assert.Equal(QueueNames.LoopExchanges, resend.Queue);
        await h.DeliverExchangeAsync(resend);
        await h.DeliverExchangeAsync(resend);
        await h.DrainAsync();

        Assert.Single(h.Fulfil.State.Where("sale.sale", s => Equals(s.GetValueOrDefault("reference"), $"LOOP-{r.ReturnId}-EXC")));
        Assert.Empty((await h.ReconcileAsync()).Mismatches);
    }

    [Fact]
    public async Task The_same_credit_note_twice_is_a_duplicate_document()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        ReconReturn r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        r.InLoop(h.Loop);
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        Assert.Single(h.CreditNotes(r.ReturnId));
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop refund", -1m, 25.00m));

        ReconciliationReport report = await h.ReconcileAsync(ReconciliationMode.Audit);

        ReconciliationMismatch dup = Assert.Single(report.Mismatches, m => m.Kind == ReconciliationMismatchKind.DuplicateDocument);
        Assert.Equal(($"LOOP-{r.ReturnId}-CN", "1", "2", "finance"), (dup.Reference, dup.Expected, dup.Actual, dup.Owner));
        // The two notes total 50.00 against a 25.00 refund: the money check says so too.
        ReconciliationMismatch money = Assert.Single(report.Mismatches, m => m.Kind == ReconciliationMismatchKind.CreditNoteMismatch);
        Assert.Equal(("25.00", "50.00"), (money.Expected, money.Actual));
    }

    [Fact]
    public async Task A_loop_document_for_a_return_loop_does_not_know_is_an_orphan()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        string unknown = LoopReturnBuilder.NextId();
        h.Fulfil.State.AddCreditNote($"LOOP-{unknown}-CN", h.PartyA, Today, "posted", ("refund", -1m, 12.00m));
        h.Fulfil.State.AddCreditNote("MANUAL-123", h.PartyA, Today, "posted", ("not ours", -1m, 5.00m));

        ReconciliationReport report = await h.ReconcileAsync(ReconciliationMode.Audit);

        ReconciliationMismatch orphan = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.OrphanDocument, orphan.Kind);
        Assert.Equal((unknown, $"LOOP-{unknown}-CN", "finance"), (orphan.ReturnId, orphan.Reference, orphan.Owner));
    }

    [Fact]
    public async Task Goods_in_quarantine_past_the_sla_are_restock_delayed_for_operations_and_not_before()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync(new Dictionary<string, string?> { ["Reconciliation:RestockSla"] = "3.00:00:00" });
        ReconReturn late = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        ReconReturn done = new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)));
        foreach (ReconReturn r in new[] { late, done })
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            await h.Ledger.EnsureStepAsync(r.ReturnId, OutcomeSteps.Receipt(1), _ => Task.FromResult("1"), CancellationToken.None);
        }

        h.Clock.Advance(TimeSpan.FromHours(10));
        await h.Ledger.EnsureStepAsync(done.ReturnId, OutcomeSteps.Restock(FulfilSandboxDemo.SellableLocationCode), _ => Task.FromResult("1"), CancellationToken.None);
        h.Clock.Advance(TimeSpan.FromHours(60));
        ReconciliationReport within = await h.ReconcileAsync(ReconciliationMode.Audit);
        h.Clock.Advance(TimeSpan.FromHours(3));
        ReconciliationReport past = await h.ReconcileAsync();

        Assert.Empty(within.Mismatches);
        ReconciliationMismatch m = Assert.Single(past.Mismatches);
        Assert.Equal((ReconciliationMismatchKind.RestockDelayed, late.ReturnId, "operations"), (m.Kind, m.ReturnId, m.Owner));
        Assert.Equal(ExceptionCategory.RestockDelayed, Assert.Single(await h.ExceptionRecordsAsync()).Category);
        Assert.Equal(1, past.RestockLatency.Samples);
        Assert.Equal(10.0, past.RestockLatency.MedianHours!.Value, 1);
    }

    [Fact]
    public async Task Report_totals_equal_loop_and_fulfil_for_a_mixed_return_and_the_stored_report_reads_back()
    {
        await using ReconciliationHarness h = await ReconciliationHarness.StartAsync();
        // 129.99 returned = 25.00 exchange credit + 50.00 store credit + 54.99 refund.
        ReconReturn mixed = new ReconReturn("#1001", (b, x) => b
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1")
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")
            .WithLine(Hoodie, 79.99m, lineItemId: x.Line(3), providerLineItemId: "p2")
            .WithExchangeOnOriginalOrder(TeeL, 25.00m)
            .WithGiftCard(50.00m)
            .WithOutcome("exchange+credit+refund"));
        ReconReturn cash = new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)));
        foreach (ReconReturn r in new[] { mixed, cash })
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            r.InLoop(h.Loop, "closed", 120);
            await h.SendAsync(r.ClosedWebhook());
        }

        ReconciliationReport report = await h.ReconcileAsync();

        Assert.Empty(report.Mismatches);
        Assert.Equal(2, report.ReturnsChecked);
        RefundTotal refund = Assert.Single(report.Totals, t => t.Type == RefundType.CashRefund);
        Assert.Equal(("USD", 2, 66.99m, 66.99m), (refund.Currency, refund.Returns, refund.LoopAmount, refund.FulfilAmount));
        RefundTotal credit = Assert.Single(report.Totals, t => t.Type == RefundType.StoreCredit);
        Assert.Equal((1, 50.00m, 50.00m), (credit.Returns, credit.LoopAmount, credit.FulfilAmount));
        RefundTotal exchange = Assert.Single(report.Totals, t => t.Type == RefundType.Exchange);
        Assert.Equal((1, 25.00m, 25.00m), (exchange.Returns, exchange.LoopAmount, exchange.FulfilAmount));
        // The Fulfil side of the totals is the sandbox's own ledger: the refund payments (docs/accounting.md row 1).
        decimal payments = h.Fulfil.State.Where("account.move", m => (m.GetValueOrDefault("description") as string)?.EndsWith("-RF", StringComparison.Ordinal) == true)
            .Sum(m => h.Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), m.Id)).Sum(l => l.Number("credit")));
        Assert.Equal(refund.FulfilAmount, payments);

        ReconciliationReport? latest = await h.Reports.GetLatestAsync(CancellationToken.None);
        Assert.NotNull(latest);
        Assert.Equal(report.RunId, latest.RunId);
        Assert.Equal(report.Totals, latest.Totals);
        ReconciliationDay day = Assert.Single(latest.History);
        Assert.Equal((report.RunId, 2, 0), (day.RunId, day.ReturnsChecked, day.Mismatches));
        Assert.Equal(report.RunId, (await h.Reports.GetAsync(report.RunId, CancellationToken.None))!.RunId);
    }
}
