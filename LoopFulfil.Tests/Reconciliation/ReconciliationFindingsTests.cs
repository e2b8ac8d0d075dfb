using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// What the daily reconciliation reports about returns whose books are right or whose money waits for finance
/// (issue #15): each expected figure is worked out here from the Loop payload with docs/accounting.md's rows.
/// </summary>
public sealed class ReconciliationFindingsTests
{
    private const string TeeM = "TEE-BLK-M";

    [Fact]
    public async Task Store_credit_with_a_bonus_reconciles_as_the_books_hold_it_credit_less_bonus_and_the_bonus_journal()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        // Row 5: a 25.00 unit back as store credit, Loop issues G = 27.50 of which B = 2.50 is bonus.
        const decimal price = 25.00m, issued = 27.50m, bonus = 2.50m;
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithGiftCard(issued));
        await h.SendAsync(r.CreatedWebhook());
        await h.SendAsync(LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, issued, bonus));
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        Assert.Empty(report.Mismatches);
        var storeCredit = Assert.Single(report.Totals, t => t.Type == RefundType.StoreCredit);
        // The liability carries the whole credit issued: store credit G − B plus bonus B.
        Assert.Equal((issued, issued), (storeCredit.LoopAmount, storeCredit.FulfilAmount));
    }

    [Fact]
    public async Task Return_closed_without_processing_is_reported_as_awaiting_finance_not_as_a_missing_credit_note()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithoutProcessing());
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.ClosedWithoutProcessing, record.Category);

        var report = await h.ReconcileAsync();

        var m = Assert.Single(report.Mismatches);
        Assert.Equal((ReconciliationMismatchKind.ClosedWithoutProcessing, "finance", record.Id, false), (m.Kind, m.Owner, m.ExceptionId, m.Healed));
        Assert.Equal(0, report.HealMessagesSent);
        // Reported, not raised again: the gate's record is the one finance answers.
        Assert.Single(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Finance_confirming_closed_without_processing_sticks_across_later_events_and_reconciliation_reports_it_confirmed()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithoutProcessing());
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        var id = Assert.Single(await h.ExceptionRecordsAsync()).Id;

        await exceptions.ResolveAsync(id, "Closed by CX, nothing refunded", ExceptionResolution.NothingToPost, CancellationToken.None);
        // Later events of the return (an update, the close sent again) neither reopen the record nor post money.
        await h.SendAsync(r.Webhook("return.updated", "closed", 180));
        await h.SendAsync(r.Webhook("return.closed", "closed", 240));

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionStatus.Resolved, ExceptionResolution.NothingToPost, 1), (record.Status, record.Resolution, record.Attempts));
        Assert.Empty(h.CreditNotes(r.ReturnId));
        Assert.Empty(h.Fulfil.State.JournalEntries());
        var report = await h.ReconcileAsync();
        Assert.Empty(report.Mismatches);
        Assert.Equal([r.ReturnId], report.ConfirmedWithoutProcessing);
    }

    [Fact]
    public async Task Nothing_to_post_is_refused_for_a_record_that_is_not_a_close_without_processing()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        var mismatch = await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.AmountMismatch, "r-1", "figures differ"), CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentException>(() => exceptions.ResolveAsync(mismatch.Id, null, ExceptionResolution.NothingToPost, CancellationToken.None));

        Assert.Equal(ExceptionStatus.Open, (await exceptions.GetAsync(mismatch.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Postings_blocked_by_an_amount_mismatch_are_reported_as_blocked_for_finance_not_missing_and_not_healed()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        var sale = Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001")).Id;
        h.Fulfil.State.SetSaleTaxes(sale, h.Fulfil.State.AddTax("Sales tax 10%", 0.10m));
        // Loop says 2.00 of tax where the sale charged 10% of 25.00: the credit note is held as draft, the refund waits.
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, tax: 2.00m, lineItemId: x.Line(1)));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        var blocking = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.AmountMismatch, blocking.Category);

        var report = await h.ReconcileAsync();

        // V − F = 25.00 + 2.00 for the credit note, R = 27.00 for the refund payment.
        Assert.Equal(
            [($"LOOP-{r.ReturnId}-CN", "27.00"), ($"LOOP-{r.ReturnId}-RF", "27.00")],
            report.Mismatches.Select(m => (m.Reference!, m.Expected)));
        Assert.All(report.Mismatches, m =>
            Assert.Equal((ReconciliationMismatchKind.PostingBlocked, ReconciliationValues.Blocked, "finance", blocking.Id, false), (m.Kind, m.Actual, m.Owner, m.ExceptionId, m.Healed)));
        Assert.Equal(0, report.HealMessagesSent);
        Assert.Single(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Credit_note_without_the_loop_reference_is_found_by_the_document_id_the_ledger_stored()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        // The ERP's own credit note, as Fulfil posted it before LoopFulfil could write LOOP-{id}-CN on it.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        h.Fulfil.State.ClearInvoiceReference(note.Id);
        var posting = await h.Services.GetRequiredService<PostingStore>().GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None);
        Assert.Equal(note.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), posting?.DocumentId);

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        Assert.Empty(report.Mismatches);
    }

    [Fact]
    public async Task Credit_note_fulfil_posted_with_the_full_value_and_the_fee_as_its_own_journal_reconciles_clean()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        // V = 2 × 25.00, F = 2.00, R = V − F = 48.00. Fulfil posts its credit note (V) before LoopFulfil can add the fee line.
        const decimal price = 25.00m, fee = 2.00m;
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithLine(TeeM, price, lineItemId: x.Line(2)).WithHandlingFee(fee));
        await h.SendAsync(r.CreatedWebhook());
        h.Fulfil.State.PostInvoice(Assert.Single(h.Fulfil.State.All("account.invoice")).Id);
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());
        await h.SendAsync(r.ClosedWebhook());
        Assert.Equal(-2 * price, Assert.Single(h.Fulfil.State.All("account.invoice")).Number("total_amount"));
        Assert.Single(h.Fulfil.State.Where("account.move", m => Equals(m.GetValueOrDefault("description"), $"LOOP-{r.ReturnId}-FEE")));

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        Assert.Empty(report.Mismatches);
    }

    [Fact]
    public async Task A_deployment_with_its_own_reference_prefix_names_every_document_with_it_and_reconciles_clean()
    {
        await using var h = await ReconciliationHarness.StartAsync(new Dictionary<string, string?> { ["Returns:ReturnOrderReferencePrefix"] = "RMA-" });
        var r = new ReconReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        await h.SendAsync(r.CreatedWebhook());
        r.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(r.ClosedWebhook());

        // Row 1: the return order, the credit note of 25.00 and the refund payment of 25.00, all under the one prefix.
        Assert.Equal($"RMA-{r.ReturnId}", Assert.Single(h.ReturnOrders(r.ReturnId)).Text("reference"));
        Assert.Equal(-25.00m, Assert.Single(h.Fulfil.State.Where("account.invoice", i => Equals(i.GetValueOrDefault("reference"), $"RMA-{r.ReturnId}-CN"))).Number("total_amount"));
        Assert.Single(h.Fulfil.State.Where("account.move", m => Equals(m.GetValueOrDefault("description"), $"RMA-{r.ReturnId}-RF")));
        Assert.Empty(h.Fulfil.State.Where("account.invoice", i => (i.GetValueOrDefault("reference") as string ?? "").StartsWith("LOOP-", StringComparison.Ordinal)));

        var report = await h.ReconcileAsync(ReconciliationMode.Audit);

        Assert.Empty(report.Mismatches);
        Assert.Equal((25.00m, 25.00m), (Assert.Single(report.Totals, t => t.Type == RefundType.CashRefund).LoopAmount, Assert.Single(report.Totals, t => t.Type == RefundType.CashRefund).FulfilAmount));
    }
}
