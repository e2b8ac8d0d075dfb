using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Shadow;

/// <summary>
/// Shadow mode (issue #18) over the simulators through real HTTP: the whole pipeline runs, Fulfil and Loop are left
/// as they were (every record compared), the planned writes and documents are reported with amounts, and switching to
/// Live posts only what the existing process had not (docs/accounting.md, documents the existing process posted).
/// </summary>
public sealed class ShadowModeTests
{
    private const string Tee = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Hoodie = "HOOD/GRY:XL";
    private static readonly Dictionary<string, string?> Shadow = new() { ["Integration:Mode"] = "Shadow" };

    [Fact]
    public async Task Shadow_run_over_a_scenario_set_leaves_every_fulfil_record_unchanged_and_reports_the_planned_documents_with_amounts()
    {
        await using var h = await OutcomesHarness.StartAsync(Shadow);
        var refund = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1)).WithLine(Tee, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        var credit = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);
        var before = ShadowTestKit.Dump(h.Fulfil.State);

        foreach (var r in new[] { refund, credit })
        {
            await h.SendAsync(r.Created_());
            await h.SendAsync(r.Closed());
        }

        Assert.Equal(before, ShadowTestKit.Dump(h.Fulfil.State));
        Assert.Empty(h.Loop.GetNotes(refund.ReturnId));
        Assert.Empty(await h.ExceptionRecordsAsync());
        var report = await h.Services.GetRequiredService<ShadowReportBuilder>().BuildAsync(CancellationToken.None);
        // The first write of each return is its return order: sale.sale/{#1001}/return_order, planned once however often the pipeline ran.
        var sale = Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001")).Id;
        foreach (var r in new[] { refund, credit })
        {
            var write = Assert.Single(report.Writes, w => w.ReturnId == r.ReturnId);
            Assert.Equal(("Fulfil", "sale.sale", "return_order", (int?)sale), (write.Target, write.Model, write.Method, write.RecordId));
        }

        Assert.Equal(50.00m, Assert.Single(report.Writes, w => w.ReturnId == refund.ReturnId).Amount);

        // Amounts from the payloads: 2 × 25.00 refunded in cash; one 79.99 hoodie as store credit.
        Assert.Equal(50.00m, Row(report, refund.ReturnId, "return sale").Planned);
        Assert.Equal(ShadowVerdict.MissingInFulfil, Row(report, refund.ReturnId, "return sale").Verdict);
        Assert.Equal((50.00m, ShadowVerdict.MissingInFulfil), (Row(report, refund.ReturnId, "credit note").Planned, Row(report, refund.ReturnId, "credit note").Verdict));
        Assert.Equal(50.00m, Row(report, refund.ReturnId, LoopReferences.RefundPayment).Planned);
        Assert.Equal(79.99m, Row(report, credit.ReturnId, "credit note").Planned);
        Assert.Equal(79.99m, Row(report, credit.ReturnId, LoopReferences.StoreCredit).Planned);
        Assert.Contains($"LOOP-{refund.ReturnId}-CN", report.RenderCsv(), StringComparison.Ordinal);

        // How far the plan got: the return sale's write is planned; the credit note and payment wait on it, and say so.
        Assert.Equal("planned: sale.sale.return_order", Row(report, refund.ReturnId, "return sale").Write);
        foreach (var document in new[] { "credit note", LoopReferences.RefundPayment })
        {
            Assert.StartsWith("not planned: it needs what sale.sale.return_order", Row(report, refund.ReturnId, document).Write, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Return_the_existing_process_posted_is_matched_in_shadow_and_going_live_posts_only_what_it_had_not()
    {
        var settings = new Dictionary<string, string?>(Shadow) { ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" };
        await using var h = await OutcomesHarness.StartAsync(settings);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1)).WithLine(Tee, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        // The existing process (Fulfil's Shopify channel) already made the return sale and its credit note.
        var fulfil = h.Fulfil.State;
        var original = Assert.Single(fulfil.FindByReference("sale.sale", "#1001")).Id;
        var party = fulfil.Get("sale.sale", original).Ref("party")!.Value;
        var existing = fulfil.AddSale("SHOPIFY-RET-1", null, party, "processing", (Tee, -2m, 25.00m));
        fulfil.LinkReturnSale(existing, original);
        var existingNote = fulfil.InvoiceReturnOrder(existing);
        var before = ShadowTestKit.Dump(fulfil);
        (var sales, var invoices) = (fulfil.Count("sale.sale"), fulfil.Count("account.invoice"));

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());

        Assert.Equal(before, ShadowTestKit.Dump(fulfil));
        var report = await h.Services.GetRequiredService<ShadowReportBuilder>().BuildAsync(CancellationToken.None);
        Assert.Equal((ShadowVerdict.Matched, "SHOPIFY-RET-1"), (Row(report, r.ReturnId, "return sale").Verdict, Row(report, r.ReturnId, "return sale").Existing));
        Assert.Equal((ShadowVerdict.Matched, 50.00m, -50.00m), (Row(report, r.ReturnId, "credit note").Verdict, Row(report, r.ReturnId, "credit note").Planned, Row(report, r.ReturnId, "credit note").ExistingAmount));

        // Live: a restart with Integration__Mode=Live, then Loop's next event for the return.
        h.Services.GetRequiredService<IOptionsMonitor<IntegrationOptions>>().CurrentValue.Mode = IntegrationMode.Live;
        await h.SendAsync(r.Webhook("return.updated", "closed", 180));

        // No second return sale and no second credit note: the existing ones are this return's now.
        Assert.Empty(h.ReturnOrders(r.ReturnId));
        Assert.Equal(sales, fulfil.Count("sale.sale"));
        Assert.Equal(invoices, fulfil.Count("account.invoice"));
        Assert.Equal(existingNote, Assert.Single(h.CreditNotes(r.ReturnId)).Id);
        // What the existing process had not posted: the refund payment, once.
        Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment));
    }

    [Fact]
    public async Task Going_live_on_a_return_whose_credit_note_the_existing_process_already_paid_posts_no_refund_and_raises_one_finance_record()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" });
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1)).WithLine(Tee, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        // The existing process made the return sale and its credit note, and already refunded the customer (paid).
        var fulfil = h.Fulfil.State;
        var original = Assert.Single(fulfil.FindByReference("sale.sale", "#1001")).Id;
        var party = fulfil.Get("sale.sale", original).Ref("party")!.Value;
        var existing = fulfil.AddSale("SHOPIFY-RET-1", null, party, "processing", (Tee, -2m, 25.00m));
        fulfil.LinkReturnSale(existing, original);
        var existingNote = fulfil.InvoiceReturnOrder(existing);
        fulfil.MarkInvoicePaid(existingNote);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());

        Assert.Empty(h.ReturnOrders(r.ReturnId));
        Assert.Empty(h.Journals(r.ReturnId, LoopReferences.RefundPayment));
        Assert.Equal("paid", fulfil.Get("account.invoice", existingNote).State);
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.AmountMismatch, "finance"), (record.Category, record.Owner));
        Assert.Contains("already paid", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_returns_of_the_same_unit_on_one_order_adopt_the_one_existing_process_return_sale_only_once()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" });
        var first = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        var second = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        // The existing process returned one tee on the order; Loop has two returns of one tee each.
        var fulfil = h.Fulfil.State;
        var original = Assert.Single(fulfil.FindByReference("sale.sale", "#1001")).Id;
        var party = fulfil.Get("sale.sale", original).Ref("party")!.Value;
        var existing = fulfil.AddSale("SHOPIFY-RET-1", null, party, "processing", (Tee, -1m, 25.00m));
        fulfil.LinkReturnSale(existing, original);

        await h.SendAsync(first.Created_());
        await h.SendAsync(second.Created_());

        var ledger = h.Services.GetRequiredService<ReturnLedger>();
        var firstOrder = (await ledger.GetStepAsync(first.ReturnId, ReturnSteps.ReturnOrder, CancellationToken.None))?.DocumentId;
        var secondOrder = (await ledger.GetStepAsync(second.ReturnId, ReturnSteps.ReturnOrder, CancellationToken.None))?.DocumentId;
        Assert.Equal(existing.ToString(CultureInfo.InvariantCulture), firstOrder);
        Assert.Empty(h.ReturnOrders(first.ReturnId));
        // The second return made its own return order instead of adopting the sale the first one holds.
        Assert.Equal(Assert.Single(h.ReturnOrders(second.ReturnId)).Id.ToString(CultureInfo.InvariantCulture), secondOrder);
        Assert.NotEqual(firstOrder, secondOrder);
    }

    [Fact]
    public async Task Even_exchange_whose_earlier_documents_the_existing_process_made_hands_off_nothing_in_shadow_and_one_exchange_order_once_live()
    {
        var settings = new Dictionary<string, string?>(Shadow) { ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" };
        await using var h = await OutcomesHarness.StartAsync(settings);
        // One 25.00 tee back, one 25.00 tee of another size out: an even exchange, no refund payment.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);
        // The existing process made the return sale and posted its credit note: nothing to plan before the exchange.
        var fulfil = h.Fulfil.State;
        var original = Assert.Single(fulfil.FindByReference("sale.sale", "#1001")).Id;
        var party = fulfil.Get("sale.sale", original).Ref("party")!.Value;
        var existing = fulfil.AddSale("SHOPIFY-RET-1", null, party, "processing", (Tee, -1m, 25.00m));
        fulfil.LinkReturnSale(existing, original);
        fulfil.PostInvoice(fulfil.InvoiceReturnOrder(existing));

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());

        Assert.Empty(h.TakeExchangeMessages());
        Assert.Empty(h.ExchangeOrders(r.ReturnId));
        var ledger = h.Services.GetRequiredService<ReturnLedger>();
        Assert.Null(await ledger.GetStepAsync(r.ReturnId, OutcomeSteps.ExchangeEnqueued(ExchangeGroups.OriginalOrderKey), CancellationToken.None));
        // The report shows the exchange order live mode would make, with the exchange's 25.00.
        var report = await h.Services.GetRequiredService<ShadowReportBuilder>().BuildAsync(CancellationToken.None);
        var handOff = Assert.Single(report.Writes, w => w.Model == QueueNames.LoopExchanges);
        Assert.Equal((r.ReturnId, (decimal?)25.00m), (handOff.ReturnId, handOff.Amount));
        var exchangeRow = Row(report, r.ReturnId, ShadowReportBuilder.ExchangeOrderDocument);
        Assert.Equal((25.00m, $"planned: {QueueNames.LoopExchanges}.send"), (exchangeRow.Planned, exchangeRow.Write));

        h.Services.GetRequiredService<IOptionsMonitor<IntegrationOptions>>().CurrentValue.Mode = IntegrationMode.Live;
        await h.SendAsync(r.Webhook("return.updated", "closed", 180));
        await h.DeliverExchangeAsync(Assert.Single(h.TakeExchangeMessages()));

        var order = Assert.Single(h.ExchangeOrders(r.ReturnId)).Id;
        Assert.Equal(fulfil.ProductId(TeeL), Assert.Single(fulfil.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order))).Ref("product"));
    }

    [Fact]
    public void Planned_write_names_model_method_record_reference_and_amount_of_a_tryton_request()
    {
        const string Body = """[[1,2],{"reference":"LOOP-77-CN","lines":[{"quantity":-2.0,"unit_price":{"__class__":"Decimal","decimal":"25.00"}},{"quantity":1.0,"unit_price":{"__class__":"Decimal","decimal":"-2.00"}}]}]""";
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

        var write = ShadowWriteHandler.Describe(ShadowWriteHandler.FulfilTarget, HttpMethod.Put, "/api/v2/model/account.invoice/9/write", Body, scopeReturnId: null, at);

        Assert.Equal(("account.invoice", "write", (int?)9, "LOOP-77-CN", "77", (decimal?)(-52.00m)), (write.Model, write.Method, write.RecordId, write.Reference, write.ReturnId, write.Amount));
    }

    private static ShadowReportRow Row(ShadowReport report, string returnId, string document) =>
        Assert.Single(report.Rows, r => r.ReturnId == returnId && r.Document == document);
}
