using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// One scenario per outcome, end to end over real parts: signed webhooks and inspections → handler and stages →
/// Fulfil sandbox (HTTP) and Loop sandbox, ledger and postings in Azurite. Every scenario checks that the units moved
/// out of quarantine equal the units received.
/// </summary>
public sealed class OutcomeScenarioTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Hoodie = "HOOD/GRY:XL";
    private const string Sellable = FulfilSandboxDemo.SellableLocationCode;
    private const string Damaged = FulfilSandboxDemo.DamagedLocationCode;

    [Fact]
    public async Task Cash_refund_posts_one_credit_note_and_one_refund_payment_from_the_receivable_to_returns_clearing()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1").WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")).AddTo(h.Loop);
        var sellableBefore = h.Stock(TeeM, Sellable);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), true, "grade_a"));
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal("paid", note.State);
        Assert.Equal(-50.00m, note.Number("total_amount"));
        Assert.Empty(h.Journals(r.ReturnId, "SC"));
        // docs/accounting.md row 1: the refund payment settles the credit note's receivable through returns clearing.
        var payment = Assert.Single(h.Fulfil.State.JournalEntries());
        Assert.Equal(payment.Id, Assert.Single(h.Journals(r.ReturnId, "RF")).Id);
        var paid = h.JournalLines(payment.Id);
        Assert.Equal(50.00m, paid.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode)).Number("debit"));
        Assert.Equal(50.00m, paid.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode)).Number("credit"));
        Assert.Equal(sellableBefore + 2, h.Stock(TeeM, Sellable));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 2m);
        Assert.Contains(h.Loop.GetNotes(r.ReturnId), n => n.Contains($"LOOP-{r.ReturnId}-CN", StringComparison.Ordinal) && n.Contains(note.Text("number")!, StringComparison.Ordinal));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Store_credit_posts_the_credit_note_and_one_balanced_journal_from_its_receivable_to_the_liability()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        // docs/accounting.md row 4: the credit note credits the receivable; store credit is issued against it.
        Assert.Equal(("paid", -79.99m), (Assert.Single(h.CreditNotes(r.ReturnId)).State, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount")));
        var journal = Assert.Single(h.Journals(r.ReturnId, "SC"));
        Assert.Equal("posted", journal.State);
        var lines = h.JournalLines(journal.Id);
        Assert.Equal(lines.Sum(l => l.Number("debit")), lines.Sum(l => l.Number("credit")));
        Assert.Equal(79.99m, lines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode)).Number("debit"));
        Assert.Equal(79.99m, lines.Single(l => l.Ref("account") == h.Fulfil.State.AccountId(FulfilSandboxDemo.GiftCardLiabilityAccountCode)).Number("credit"));
        Assert.Single(h.Fulfil.State.JournalEntries());
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
    }

    [Fact]
    public async Task Exchange_becomes_one_priority_sales_order_after_loop_confirms_and_none_before()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Webhook("return.updated", "open", 30));
        Assert.Empty(h.TakeExchangeMessages());
        Assert.Empty(h.ExchangeOrders(r.ReturnId));

        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        var message = Assert.Single(h.TakeExchangeMessages());
        var result = Assert.Single(await h.DeliverExchangeAsync(message));

        Assert.Equal(ExchangeOutcome.Created, result.Outcome);
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal($"LOOP-{r.ReturnId}-EXC", order.Text("reference"));
        Assert.Equal("1", order.Text("priority"));
        Assert.Equal(FulfilSandboxDemo.ExchangeChannelId, order.Ref("channel"));
        Assert.Equal("confirmed", order.State);
        var line = Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id)));
        Assert.Equal(h.Fulfil.State.ProductId(TeeL), line.Ref("product"));
        Assert.Equal(1m, line.Number("quantity"));
        Assert.Equal(25.00m, line.Number("unit_price"));
        var original = Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001"), s => !Equals(s["is_return"], true));
        Assert.Equal(original.Ref("party"), order.Ref("party"));
        // Booked once (accounting.md row 6): the returned unit's credit note settles the exchange invoice, so neither
        // the receivable nor the revenue is left twice. Before #15 there was no credit note and the invoice stayed open.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal((-Figure(r, "return_total"), "paid"), (note.Number("total_amount"), note.State));
        Assert.Equal(LoopReferences.Default.Of(r.ReturnId, LoopReferences.Settlement), Assert.Single(h.Fulfil.State.Reconciliations()).Text("name"));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
        Assert.Contains(h.Loop.GetNotes(r.ReturnId), n => n.Contains(order.Text("number")!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mixed_return_gets_credit_note_journal_and_exchange_order_once_each_with_every_event_delivered_five_times()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // 129.99 returned = 25.00 exchange credit + 50.00 store credit + 54.99 refund.
        var r = new OutcomeReturn("#1001", (b, x) => b
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1")
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")
            .WithLine(Hoodie, 79.99m, lineItemId: x.Line(3), providerLineItemId: "p2")
            .WithExchangeOnOriginalOrder(TeeL, 25.00m)
            .WithGiftCard(50.00m)
            .WithOutcome("exchange+credit+refund")).AddTo(h.Loop);
        LineInspection[] verdicts = [new(r.Line(1), true, "back_to_stock"), new(r.Line(2), true, "back_to_stock"), new(r.Line(3), true, "recycle")];
        var sellableBefore = h.Stock(TeeM, Sellable);

        for (var i = 0; i < 5; i++)
        {
            await h.SendAsync(r.Created_());
        }

        for (var i = 0; i < 5; i++)
        {
            await h.InspectAsync(r.ReturnId, verdicts);
        }

        for (var i = 0; i < 5; i++)
        {
            await h.SendAsync(r.Closed());
        }

        var exchange = Assert.Single(h.TakeExchangeMessages());
        await h.DeliverExchangeAsync(exchange, times: 5);

        // docs/accounting.md row 9: one credit note for all returned units; refund and store credit each settle part of it.
        var creditNote = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(-(25.00m + 25.00m + 79.99m), creditNote.Number("total_amount"));
        // The refund payment, store credit and exchange invoice together settle it (the receivable nets to zero).
        Assert.Equal("paid", creditNote.State);
        Assert.Equal(LoopReferences.Default.Of(r.ReturnId, LoopReferences.Settlement), Assert.Single(h.Fulfil.State.Reconciliations()).Text("name"));
        var journal = Assert.Single(h.Journals(r.ReturnId, "SC"));
        Assert.Equal(50.00m, h.JournalLines(journal.Id).Sum(l => l.Number("credit")));
        Assert.Equal(54.99m, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, "RF")).Id).Sum(l => l.Number("credit")));
        Assert.Equal(2, h.Fulfil.State.JournalEntries().Count);
        Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Single(h.Fulfil.State.Where("sale.sale", s => Equals(s.GetValueOrDefault("channel_identifier"), r.ReturnId)));
        Assert.Equal(sellableBefore + 2, h.Stock(TeeM, Sellable));
        Assert.Equal(1m, h.Stock(Hoodie, Damaged));
        Assert.Equal(2, h.RestockShipments(r.ReturnId).Count);
        Assert.Equal(1, h.Loop.Requests.Count(q => q.Path.EndsWith($"/return/{r.ReturnId}/process", StringComparison.Ordinal)));
        Assert.Single(h.Loop.GetNotes(r.ReturnId), n => n.StartsWith("LoopFulfil:", StringComparison.Ordinal));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 3m);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Damaged_unit_goes_to_the_damaged_location_and_sellable_is_unchanged()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1))).AddTo(h.Loop);
        var sellableBefore = h.Stock(Hoodie, Sellable);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "junk"));

        Assert.Equal(1m, h.Stock(Hoodie, Damaged));
        Assert.Equal(sellableBefore, h.Stock(Hoodie, Sellable));
        Assert.Equal(0m, h.Stock(Hoodie, FulfilSandboxDemo.QuarantineLocationCode));
        Assert.Equal($"LOOP-{r.ReturnId}-RESTOCK-{Damaged}", Assert.Single(h.RestockShipments(r.ReturnId)).Text("reference"));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
    }

    [Fact]
    public async Task Back_to_stock_raises_sellable_by_exactly_the_units_including_a_repeated_line_item_id()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // Two units under one line_item_id (Loop sometimes repeats it) and a third unit of the same SKU.
        var r = new OutcomeReturn("#1003", (b, x) => b
            .WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1), providerLineItemId: "s1")
            .WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1), providerLineItemId: "s1")
            .WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(2), providerLineItemId: "s1")).AddTo(h.Loop);
        var sellableBefore = h.Stock("SOCK-3PK", Sellable);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), true, "back_to_stock"));

        Assert.Equal(sellableBefore + 3, h.Stock("SOCK-3PK", Sellable));
        var shipment = Assert.Single(h.RestockShipments(r.ReturnId));
        // Units of one product summed into one move.
        Assert.Single(h.Fulfil.State.Where("stock.move", m => Equals(m.GetValueOrDefault("shipment"), "stock.shipment.internal," + shipment.Id)));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 3m);
        Assert.Equal("closed", await WaitForClosedAsync(h, r.ReturnId));
    }

    [Fact]
    public async Task Failed_inspection_flags_the_return_in_loop_with_a_note_and_keeps_the_unit_in_quarantine()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        var sellableBefore = h.Stock(TeeM, Sellable);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), false, Note: "stained"));
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), false, Note: "stained"));

        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));
        var note = Assert.Single(h.Loop.GetNotes(r.ReturnId));
        Assert.Contains(r.Line(1), note, StringComparison.Ordinal);
        Assert.Contains("stained", note, StringComparison.Ordinal);
        Assert.Equal("review", h.Loop.GetState(r.ReturnId));
        Assert.Equal(0, h.Loop.Requests.Count(q => q.Path.EndsWith("/process", StringComparison.Ordinal)));
        Assert.Empty(h.RestockShipments(r.ReturnId));
        Assert.Equal(sellableBefore, h.Stock(TeeM, Sellable));
        // The inspected parcel is in hand: its unit waits in quarantine for the flagged return to be resolved.
        Assert.Equal(1m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(0m, h.UnitsMovedOutOfQuarantine(r.ReturnId));
    }

    [Fact]
    public async Task Missing_unit_is_not_received_the_rest_is_received_at_once_and_leaves_quarantine_once_loop_closes_the_return()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1").WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")).AddTo(h.Loop);
        var sellableBefore = h.Stock(TeeM, Sellable);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), false, "missing", "empty bag"));
        Assert.Equal(1m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(0m, h.UnitsMovedOutOfQuarantine(r.ReturnId));
        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));

        // A person resolves the flagged return in Loop; Loop closes it.
        await h.SendAsync(r.Closed());

        Assert.Equal(sellableBefore + 1, h.Stock(TeeM, Sellable));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
        var missing = Assert.Single(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.RestockDelayed);
        Assert.Equal("operations", missing.Owner);
    }

    [Fact]
    public async Task Amounts_that_do_not_add_up_raise_amount_mismatch_for_finance_and_post_nothing()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // Lines refund 50.00 but Loop's header says 45.00 to the original payment and nothing else.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)).WithRefund(45.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.AmountMismatch, record.Category);
        Assert.Equal("finance", record.Owner);
        Assert.Contains("50.00", record.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Fulfil.State.Count("account.invoice"));
        Assert.Empty(h.Fulfil.State.JournalEntries());
        Assert.Empty(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 0m);
    }

    [Fact]
    public async Task Scheduled_mode_posts_nothing_until_the_job_runs_then_one_batch_with_a_correct_summary()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:PostingMode"] = "Scheduled" });
        var cash = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithHandlingFee(5.00m)).AddTo(h.Loop);
        var credit = new OutcomeReturn("#1003", (b, x) => b.WithLine(TeeL, 25.00m, lineItemId: x.Line(1)).WithGiftCard(25.00m)).AddTo(h.Loop);

        foreach (var r in (OutcomeReturn[])[cash, credit])
        {
            await h.SendAsync(r.Created_());
            await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
            await h.SendAsync(r.Closed());
            await h.SendAsync(r.Closed());
        }

        Assert.Equal(0, h.Fulfil.State.Count("account.invoice"));
        Assert.Empty(h.Fulfil.State.JournalEntries());
        Assert.Empty(h.Loop.GetNotes(cash.ReturnId));

        PostingBatchSummary summary;
        using (var scope = h.Services.CreateScope())
        {
            summary = await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }

        await h.DrainAsync();
        // Two credit notes (25.00 less the 5.00 fee line; 25.00), the refund payment 20.00 and the store credit 25.00.
        Assert.Equal(4, summary.Pending);
        Assert.Equal(4, summary.Posted);
        Assert.Empty(summary.Failures);
        Assert.Equal(
            [new PostingTotal("CN", "USD", 2, 20.00m + 25.00m), new PostingTotal("RF", "USD", 1, 20.00m), new PostingTotal("SC", "USD", 1, 25.00m)],
            summary.Totals);
        Assert.Equal(-20.00m, Assert.Single(h.CreditNotes(cash.ReturnId)).Number("total_amount"));
        Assert.Equal("posted", Assert.Single(h.Journals(cash.ReturnId, "RF")).State);
        Assert.Equal("posted", Assert.Single(h.Journals(credit.ReturnId, "SC")).State);
        Assert.Contains(h.Loop.GetNotes(cash.ReturnId), n => n.Contains($"LOOP-{cash.ReturnId}-CN", StringComparison.Ordinal));

        PostingBatchSummary again;
        using (var scope = h.Services.CreateScope())
        {
            again = await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }

        Assert.Equal(0, again.Pending);
        Assert.Equal(2, h.Fulfil.State.Count("account.invoice"));
        Assert.Equal(2, h.Fulfil.State.JournalEntries().Count);
        h.AssertMovedOutEqualsReceived(cash.ReturnId, 1m);
        h.AssertMovedOutEqualsReceived(credit.ReturnId, 1m);
    }

    /// <summary>A money figure of the closed payload (what Loop says), never the code's plan.</summary>
    private static decimal Figure(OutcomeReturn r, string field) =>
        decimal.Parse(r.Json("closed", 120)[field]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string?> WaitForClosedAsync(OutcomesHarness h, string returnId)
    {
        // Loop processes in the background; await that work (the timeout only guards against a hang).
        await h.Loop.BackgroundWorkDone().Guarded();

        return h.Loop.GetState(returnId);
    }
}
