using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Webhooks;

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
        await using var h = await ReconciliationHarness.StartAsync();
        // Loop has the return; its return.created webhook never arrived.
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).InLoop(h.Loop);

        var first = await h.ReconcileAsync();

        var missing = Assert.Single(first.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.MissingReturnOrder, missing.Kind);
        Assert.Equal(r.ReturnId, missing.ReturnId);
        Assert.Equal("operations", missing.Owner);
        Assert.True(missing.Healed);
        Assert.Equal(1, first.HealMessagesSent);
        Assert.Empty(h.ReturnOrders(r.ReturnId));

        // Duplicate detection is off on this bus: deliver the heal twice, as a redelivery would.
        var heal = Assert.Single(h.Sent.Messages, m => m.Queue == QueueNames.LoopReturns);
        Assert.Equal(1, h.Bus.Pending);
        await h.DrainAsync();
        await h.Bus.SendAsync(heal, CancellationToken.None);
        await h.DrainAsync();
        var second = await h.ReconcileAsync();

        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Empty(second.Mismatches);
        Assert.Equal(0, second.HealMessagesSent);
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Heal_message_carries_the_topic_trigger_return_id_and_event_time_the_ingress_stamps_for_that_return_and_is_handled_without_a_body_read()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        // Loop has the return as edited 30 minutes after creation (updated_at/edited_at its latest time); no webhook arrived.
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).InLoop(h.Loop, "open", 30);

        await h.ReconcileAsync();

        var heal = Assert.Single(h.Sent.Messages, m => m.Queue == QueueNames.LoopReturns);
        var stamp = EnvelopeStamp.Of(heal);
        Assert.Equal(EnvelopeStamp.ByIngress(r.Webhook("return.updated", "open", 30)), stamp);
        Assert.Equal(("return", "return.updated", r.ReturnId), (stamp.Topic, stamp.Trigger, stamp.ReturnId));
        Assert.Equal(LoopReturnBuilder.DemoSaleReturnCreated.AddMinutes(30), EnvelopeStamp.EventTime(heal));

        var reads = EnvelopeReads.Start();
        var evt = ReturnEvent.From(EnvelopeStamp.Delivered(heal))!;
        await h.DrainAsync();

        Assert.Equal((r.ReturnId, LoopReturnBuilder.DemoSaleReturnCreated.AddMinutes(30)), (evt.ReturnId, evt.EventTime));
        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Equal(0, reads.Reads);
    }

    [Fact]
    public async Task Self_heal_posts_a_missing_credit_note_exactly_once()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)));
        r.InLoop(h.Loop);
        await h.SendAsync(r.CreatedWebhook());
        // Loop processed the return (refund 50.00 to the original payment) but return.closed was lost.
        r.InLoop(h.Loop, "closed", 120);
        Assert.Empty(h.CreditNotes(r.ReturnId));

        var report = await h.ReconcileAsync();

        // docs/accounting.md row 1: the credit note and the refund payment that settles it are both missing.
        Assert.Equal([ReconciliationMismatchKind.CreditNoteMismatch, ReconciliationMismatchKind.JournalMismatch], report.Mismatches.Select(m => m.Kind));
        Assert.Equal($"LOOP-{r.ReturnId}-RF", report.Mismatches[1].Reference);
        var cn = report.Mismatches[0];
        Assert.Equal("50.00", cn.Expected);
        Assert.Equal(ReconciliationValues.Missing, cn.Actual);
        Assert.Equal("USD", cn.Currency);
        Assert.Equal("finance", cn.Owner);
        Assert.True(cn.Healed);
        var heal = Assert.Single(h.Sent.Messages, m => m.Queue == QueueNames.LoopReturns);
        Assert.Equal(r.ReturnId, heal.SessionId);
        Assert.StartsWith($"reconcile-{report.RunId}-", heal.MessageId, StringComparison.Ordinal);

        await h.DrainAsync();
        // The same heal again (a redelivery, or tomorrow's run racing a late webhook): still one credit note.
        await h.Bus.SendAsync(heal, CancellationToken.None);
        await h.SendAsync(r.ClosedWebhook());
        var after = await h.ReconcileAsync();

        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(-50.00m, note.Number("total_amount"));
        Assert.Equal("paid", note.State);
        Assert.Empty(after.Mismatches);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Credit_note_total_different_from_the_cash_refund_is_an_amount_mismatch_for_finance()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        // Someone posted the credit note by hand, for 45.00 instead of 50.00, and the 50.00 refund payment.
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop refund", -1m, 45.00m));
        h.Fulfil.State.AddJournalEntry($"LOOP-{r.ReturnId}-RF", Today, "posted",
            (FulfilSandboxDemo.ReceivableAccountCode, 50.00m, 0m), (FulfilSandboxDemo.ReturnsClearingAccountCode, 0m, 50.00m));

        var report = await h.ReconcileAsync();

        var m = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.CreditNoteMismatch, m.Kind);
        Assert.Equal(("50.00", "45.00", "USD"), (m.Expected, m.Actual, m.Currency));
        Assert.False(m.Healed);
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.AmountMismatch, record.Category);
        Assert.Equal("finance", record.Owner);
        Assert.Equal(record.Id, m.ExceptionId);
        Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Store_credit_journal_different_from_loops_store_credit_is_a_journal_mismatch()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop return", -1m, 79.99m));
        h.Fulfil.State.AddJournalEntry($"LOOP-{r.ReturnId}-SC", Today, "posted",
            (FulfilSandboxDemo.ReceivableAccountCode, 70.00m, 0m), (FulfilSandboxDemo.GiftCardLiabilityAccountCode, 0m, 70.00m));

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        var m = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.JournalMismatch, m.Kind);
        Assert.Equal(("79.99", "70.00", "finance"), (m.Expected, m.Actual, m.Owner));
        // Audit is read-only: no heal, no exception record.
        Assert.Empty(await h.ExceptionRecordsAsync());
        Assert.Equal(0, h.Bus.Pending);
    }

    [Fact]
    public async Task Confirmed_exchange_without_its_sales_order_is_reported_for_cx_and_healed_by_resending_the_exchange()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        (var r, var handedOff) = await h.CloseEvenExchangeAsync();
        // The loop-exchanges message was lost (dead-lettered and purged, say).
        Assert.Single(handedOff);

        var audit = await h.ReconcileAsync(ReconciliationMode.Audit);
        var m = Assert.Single(audit.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.MissingExchangeOrder, m.Kind);
        Assert.Equal(($"LOOP-{r.ReturnId}-EXC", "cx"), (m.Reference, m.Owner));

        var daily = await h.ReconcileAsync();
        Assert.True(Assert.Single(daily.Mismatches).Healed);
        var resend = Assert.Single(h.TakeExchangeMessages());
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
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        r.InLoop(h.Loop);
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        Assert.Single(h.CreditNotes(r.ReturnId));
        h.Fulfil.State.AddCreditNote($"LOOP-{r.ReturnId}-CN", h.PartyA, Today, "posted", ("Loop refund", -1m, 25.00m));

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        var dup = Assert.Single(report.Mismatches, m => m.Kind == ReconciliationMismatchKind.DuplicateDocument);
        Assert.Equal(($"LOOP-{r.ReturnId}-CN", "1", "2", "finance"), (dup.Reference, dup.Expected, dup.Actual, dup.Owner));
        // The two notes total 50.00 against a 25.00 refund: the money check says so too.
        var money = Assert.Single(report.Mismatches, m => m.Kind == ReconciliationMismatchKind.CreditNoteMismatch);
        Assert.Equal(("25.00", "50.00"), (money.Expected, money.Actual));
    }

    [Fact]
    public async Task A_loop_document_for_a_return_loop_does_not_know_is_an_orphan()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var unknown = LoopReturnBuilder.NextId();
        h.Fulfil.State.AddCreditNote($"LOOP-{unknown}-CN", h.PartyA, Today, "posted", ("refund", -1m, 12.00m));
        h.Fulfil.State.AddCreditNote("MANUAL-123", h.PartyA, Today, "posted", ("not ours", -1m, 5.00m));

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        var orphan = Assert.Single(report.Mismatches);
        Assert.Equal(ReconciliationMismatchKind.OrphanDocument, orphan.Kind);
        Assert.Equal((unknown, $"LOOP-{unknown}-CN", "finance"), (orphan.ReturnId, orphan.Reference, orphan.Owner));
    }

    [Fact]
    public async Task Goods_in_quarantine_past_the_sla_are_restock_delayed_for_operations_and_not_before()
    {
        await using var h = await ReconciliationHarness.StartAsync(new Dictionary<string, string?> { ["Reconciliation:RestockSla"] = "3.00:00:00" });
        var late = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        var done = new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)));
        foreach (var r in new[] { late, done })
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            await h.Ledger.EnsureStepAsync(r.ReturnId, OutcomeSteps.Receipt(1), _ => Task.FromResult("1"), CancellationToken.None);
        }

        h.Clock.Advance(TimeSpan.FromHours(10));
        await h.Ledger.EnsureStepAsync(done.ReturnId, OutcomeSteps.Restock(FulfilSandboxDemo.SellableLocationCode), _ => Task.FromResult("1"), CancellationToken.None);
        h.Clock.Advance(TimeSpan.FromHours(60));
        var within = await h.ReconcileAsync(ReconciliationMode.Audit);
        h.Clock.Advance(TimeSpan.FromHours(3));
        var past = await h.ReconcileAsync();

        Assert.Empty(within.Mismatches);
        var m = Assert.Single(past.Mismatches);
        Assert.Equal((ReconciliationMismatchKind.RestockDelayed, late.ReturnId, "operations"), (m.Kind, m.ReturnId, m.Owner));
        Assert.Equal(ExceptionCategory.RestockDelayed, Assert.Single(await h.ExceptionRecordsAsync()).Category);
        Assert.Equal(1, past.RestockLatency.Samples);
        Assert.Equal(10.0, past.RestockLatency.MedianHours!.Value, 1);
    }

    [Fact]
    public async Task Report_totals_equal_loop_and_fulfil_for_a_mixed_return_and_the_stored_report_reads_back()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        // 129.99 returned = 25.00 exchange credit + 50.00 store credit + 54.99 refund.
        var mixed = new ReconReturn("#1001", (b, x) => b
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1")
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")
            .WithLine(Hoodie, 79.99m, lineItemId: x.Line(3), providerLineItemId: "p2")
            .WithExchangeOnOriginalOrder(TeeL, 25.00m)
            .WithGiftCard(50.00m)
            .WithOutcome("exchange+credit+refund"));
        var cash = new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)));
        foreach (var r in new[] { mixed, cash })
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            r.InLoop(h.Loop, "closed", 120);
            await h.SendAsync(r.ClosedWebhook());
        }

        var report = await h.ReconcileAsync();

        Assert.Empty(report.Mismatches);
        Assert.Equal(2, report.ReturnsChecked);
        var refund = Assert.Single(report.Totals, t => t.Type == RefundType.CashRefund);
        Assert.Equal(("USD", 2, 66.99m, 66.99m), (refund.Currency, refund.Returns, refund.LoopAmount, refund.FulfilAmount));
        var credit = Assert.Single(report.Totals, t => t.Type == RefundType.StoreCredit);
        Assert.Equal((1, 50.00m, 50.00m), (credit.Returns, credit.LoopAmount, credit.FulfilAmount));
        var exchange = Assert.Single(report.Totals, t => t.Type == RefundType.Exchange);
        Assert.Equal((1, 25.00m, 25.00m), (exchange.Returns, exchange.LoopAmount, exchange.FulfilAmount));
        // The Fulfil side of the totals is the sandbox's own ledger: the refund payments (docs/accounting.md row 1).
        var payments = h.Fulfil.State.Where("account.move", m => (m.GetValueOrDefault("description") as string)?.EndsWith("-RF", StringComparison.Ordinal) == true)
            .Sum(m => h.Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), m.Id)).Sum(l => l.Number("credit")));
        Assert.Equal(refund.FulfilAmount, payments);

        var latest = await h.Reports.GetLatestAsync(CancellationToken.None);
        Assert.NotNull(latest);
        Assert.Equal(report.RunId, latest.RunId);
        Assert.Equal(report.Totals, latest.Totals);
        var day = Assert.Single(latest.History);
        Assert.Equal((report.RunId, 2, 0), (day.RunId, day.ReturnsChecked, day.Mismatches));
        Assert.Equal(report.RunId, (await h.Reports.GetAsync(report.RunId, CancellationToken.None))!.RunId);
    }
}
