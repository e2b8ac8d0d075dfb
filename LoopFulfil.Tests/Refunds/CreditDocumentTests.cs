using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Refunds;

/// <summary>
/// docs/accounting.md rows 1, 2, 4, 5 and 9 end to end over the Fulfil simulator (HTTP) with its return invoicing and
/// taxes as Tryton has them: one credit note per return whichever side makes it, the sale lines' taxes on it, the fee
/// as its line, the store credit and its bonus against the receivable, and both payload shapes giving the same books.
/// Expected figures are worked out from the Loop payload in each test.
/// </summary>
public sealed class CreditDocumentTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";

    [Fact]
    public async Task Fulfil_that_invoices_the_return_on_order_gets_its_own_credit_note_adopted_and_no_second_one_with_default_settings()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        const decimal price = 25.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithLine(TeeM, price, lineItemId: x.Line(2))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        var made = Assert.Single(h.Fulfil.State.All("account.invoice"));
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        for (var i = 0; i < 3; i++)
        {
            await h.SendAsync(r.Closed());
        }

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(made.Id, note.Id);
        Assert.Equal(("paid", -(price + price), $"LOOP-{r.ReturnId}-CN"), (note.State, note.Number("total_amount"), note.Text("reference")));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Create_source_on_a_return_sale_fulfil_invoices_on_shipment_is_refused_for_finance_and_makes_no_second_credit_note()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:CreditNoteSource"] = "Create" });
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Shipment;
        const decimal price = 25.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1))).AddTo(h.Loop);

        // Loop processes the return before the parcel arrives: Fulfil has not credited the return sale yet.
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());

        Assert.Equal(0, h.Fulfil.State.Count("account.invoice"));
        var refused = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal("finance", refused.Owner);
        Assert.Contains("CreditNoteSource", refused.Message, StringComparison.Ordinal);
        Assert.Contains("shipment", refused.Message, StringComparison.Ordinal);

        // The parcel arrives: Fulfil credits the return sale, and that is the return's only credit note.
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(-price, note.Number("total_amount"));
    }

    [Fact]
    public async Task Handling_fee_becomes_a_line_of_fulfils_draft_credit_note_so_it_credits_what_loop_refunds()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        const decimal price = 25.00m, fee = 2.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithLine(TeeM, price, lineItemId: x.Line(2)).WithHandlingFee(fee)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(("paid", -(price + price - fee)), (note.State, note.Number("total_amount")));
        var feeLine = Assert.Single(h.Fulfil.State.Where("account.invoice.line", l => Equals(l.GetValueOrDefault("invoice"), note.Id) && Equals(l.GetValueOrDefault("account"), h.Fulfil.State.AccountId(FulfilSandboxDemo.ReturnFeeAccountCode))));
        Assert.Equal(fee, feeLine.Number("quantity") * feeLine.Number("unit_price"));
        var payment = Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment));
        Assert.Equal(price + price - fee, h.JournalLines(payment.Id).Sum(l => l.Number("credit")));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Discounted_unit_is_returned_at_price_less_discount_so_fulfils_own_credit_note_matches_loop()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        const decimal price = 25.00m, discount = 5.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, discount: discount, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var returned = Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), h.ReturnOrder(r.ReturnId).Id)));
        Assert.Equal(price - discount, returned.Number("unit_price"));
        Assert.Equal(("paid", -(price - discount)), (Assert.Single(h.CreditNotes(r.ReturnId)).State, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount")));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Credit_note_loopfulfil_makes_for_a_manually_invoiced_return_carries_the_sale_lines_taxes_and_reverses_loops_tax()
    {
        await using var h = await OutcomesHarness.StartAsync();
        const decimal price = 25.00m, rate = 0.10m;
        var tax = price * rate;
        var salesTax = h.Fulfil.State.AddTax("Sales tax 10%", rate);
        h.Fulfil.State.SetSaleTaxes(OriginalSale(h, "#1001"), salesTax);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, tax: tax, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(("paid", -tax, -(price + tax)), (note.State, note.Number("tax_amount"), note.Number("total_amount")));
        var line = Assert.Single(h.Fulfil.State.Where("account.invoice.line", l => Equals(l.GetValueOrDefault("invoice"), note.Id)));
        Assert.Equal([salesTax], line.Ids("taxes"));
        Assert.Equal(price + tax, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("debit")));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Tax_fulfil_computes_other_than_loops_is_an_amount_mismatch_for_finance_and_the_credit_note_stays_draft()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        h.Fulfil.State.SetSaleTaxes(OriginalSale(h, "#1001"), h.Fulfil.State.AddTax("Sales tax 10%", 0.10m));
        // Loop says 2.00 of tax where the sale charged 10% of 25.00.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, tax: 2.00m, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal("draft", note.State);
        var record = Assert.Single(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.AmountMismatch);
        Assert.Equal("finance", record.Owner);
        Assert.Contains("tax", record.Message, StringComparison.Ordinal);
        Assert.Empty(h.Journals(r.ReturnId, LoopReferences.RefundPayment));
        Assert.All(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None), p => Assert.Equal(PostingStatus.Blocked, p.Status));
    }

    [Fact]
    public async Task Tax_loop_rounds_per_unit_and_fulfil_per_line_differs_by_a_cent_that_goes_to_the_rounding_account_so_the_credit_note_matches_the_refund()
    {
        const string roundingCode = "7990";
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:RoundingAccountCode"] = roundingCode });
        var rounding = h.Fulfil.State.AddAccount(roundingCode, "Rounding differences", "expense");
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        const decimal price = 10.05m, rate = 0.10m;
        h.Fulfil.State.SetSaleTaxes(OriginalSale(h, "#1001"), h.Fulfil.State.AddTax("Sales tax 10%", rate));
        // Loop rounds each unit's tax (1.005 → 1.01); Fulfil rounds the line of two units (2.010 → 2.01).
        var loopUnitTax = decimal.Round(price * rate, 2, MidpointRounding.AwayFromZero);
        var fulfilTax = decimal.Round(2 * price * rate, 2, MidpointRounding.AwayFromZero);
        Assert.Equal(0.01m, (2 * loopUnitTax) - fulfilTax);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, tax: loopUnitTax, lineItemId: x.Line(1)).WithLine(TeeM, price, tax: loopUnitTax, lineItemId: x.Line(2))).AddTo(h.Loop);
        var refund = 2 * (price + loopUnitTax);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        Assert.Empty(await h.ExceptionRecordsAsync());
        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal((-refund, -fulfilTax, "paid"), (note.Number("total_amount"), note.Number("tax_amount"), note.State));
        var line = Assert.Single(h.Fulfil.State.Where("account.invoice.line", l => Equals(l.GetValueOrDefault("invoice"), note.Id) && Equals(l.GetValueOrDefault("account"), rounding)));
        Assert.Equal(-((2 * loopUnitTax) - fulfilTax), line.Number("quantity") * line.Number("unit_price"));
        Assert.Equal(refund, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("debit")));
        Assert.Single(h.Fulfil.State.Reconciliations());
    }

    [Fact]
    public async Task Store_credit_with_a_bonus_books_the_whole_credit_issued_to_the_liability_and_the_bonus_to_its_own_account()
    {
        await using var h = await OutcomesHarness.StartAsync();
        const decimal price = 25.00m, bonus = 2.50m;
        var issued = price + bonus;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, refund: 0m, lineItemId: x.Line(1)).WithGiftCard(price)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, issued, bonus));
        await h.SendAsync(LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, issued, bonus));

        var liability = h.Fulfil.State.AccountId(FulfilSandboxDemo.GiftCardLiabilityAccountCode);
        var receivable = h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode);
        var bonusAccount = h.Fulfil.State.AccountId(FulfilSandboxDemo.GiftCardBonusAccountCode);
        var lines = h.Fulfil.State.All("account.move.line");
        Assert.Equal(issued, lines.Where(l => l.Ref("account") == liability).Sum(l => l.Number("credit")));
        Assert.Equal(bonus, lines.Where(l => l.Ref("account") == bonusAccount).Sum(l => l.Number("debit")));
        // Store credit is issued against the receivable the credit note credited (−25.00): +25.00 on it.
        Assert.Equal(-price, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        var storeCredit = Assert.Single(h.Journals(r.ReturnId, LoopReferences.StoreCredit));
        Assert.Equal(price, h.JournalLines(storeCredit.Id).Where(l => l.Ref("account") == receivable).Sum(l => l.Number("debit") - l.Number("credit")));
        Assert.Equal("posted", Assert.Single(h.Journals(r.ReturnId, LoopReferences.GiftCardBonus)).State);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Both_payload_shapes_post_the_same_documents_end_to_end()
    {
        await using var h = await OutcomesHarness.StartAsync();
        const decimal price = 25.00m, refund = 10.00m;
        // Loop sends the line's value in its refund, or 0 with the money in the header: the same return either way.
        var valued = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithGiftCard(price - refund).WithRefund(refund)).AddTo(h.Loop);
        var zeroed = new OutcomeReturn("#1003", (b, x) => b.WithLine(TeeL, price, refund: 0m, lineItemId: x.Line(1)).WithGiftCard(price - refund).WithRefund(refund)).AddTo(h.Loop);

        foreach (var r in (OutcomeReturn[])[valued, zeroed])
        {
            await h.SendAsync(r.Created_());
            await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
            await h.SendAsync(r.Closed());
        }

        Assert.Empty(await h.ExceptionRecordsAsync());
        foreach (var r in (OutcomeReturn[])[valued, zeroed])
        {
            Assert.Equal(-price, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
            Assert.Equal(refund, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("credit")));
            Assert.Equal(price - refund, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.StoreCredit)).Id).Sum(l => l.Number("credit")));
        }
    }

    private static int OriginalSale(OutcomesHarness h, string reference) =>
        Assert.Single(h.Fulfil.State.FindByReference("sale.sale", reference), s => !Equals(s["is_return"], true)).Id;

}
