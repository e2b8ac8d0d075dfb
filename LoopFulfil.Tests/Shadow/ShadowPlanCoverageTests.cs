using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Shadow;

/// <summary>
/// How far shadow mode's plan gets (issue #18): a planned write stops only the stages that need its answer, so the
/// independent ones (the warehouse's inspection result, the credit note) are both planned; every document the plan could not reach
/// is listed in the report with the planned write it waits on.
/// </summary>
public sealed class ShadowPlanCoverageTests
{
    private const string Tee = "TEE-BLK-M";

    [Fact]
    public async Task Adopted_return_plans_its_inspection_result_and_its_credit_note_and_reports_the_refund_payment_as_waiting_on_the_credit_note()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Integration:Mode"] = "Shadow", ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" });
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1)).WithLine(Tee, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        // The existing process made the return sale (with its return shipment) and a draft credit note.
        var fulfil = h.Fulfil.State;
        var original = Assert.Single(fulfil.FindByReference("sale.sale", "#1001")).Id;
        var existing = fulfil.AddSale("SHOPIFY-RET-7", null, fulfil.Get("sale.sale", original).Ref("party")!.Value, "processing", (Tee, -2m, 25.00m));
        fulfil.LinkReturnSale(existing, original);
        var note = fulfil.InvoiceReturnOrder(existing);
        var before = ShadowTestKit.Dump(fulfil);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());

        Assert.Equal(before, ShadowTestKit.Dump(fulfil));
        var plan = (await ShadowTestKit.PlanAsync(h.Services)).Where(w => w.ReturnId == r.ReturnId).ToList();
        // Two stages planned past each other: the warehouse's inspection result to Loop (the first planned write of the
        // closed pass too), and finance's reference on the adopted credit note, which a stop of the whole chain never reached.
        Assert.Contains(plan, w => w.Target == ShadowWriteHandler.LoopTarget && w.Model.EndsWith("/process", StringComparison.Ordinal));
        var reference = Assert.Single(plan, w => w.Model == "account.invoice" && w.Method == "write");
        Assert.Equal($"LOOP-{r.ReturnId}-CN", reference.Reference);
        Assert.StartsWith($"[[{note}]", reference.Body, StringComparison.Ordinal);

        var report = await h.Services.GetRequiredService<ShadowReportBuilder>().BuildAsync(CancellationToken.None);
        Assert.Equal(ShadowPlanCoverage.NoneNeeded, Row(report, r.ReturnId, "return sale").Write);
        Assert.Equal("planned: account.invoice.write", Row(report, r.ReturnId, "credit note").Write);
        var payment = Row(report, r.ReturnId, LoopReferences.RefundPayment);
        Assert.Equal(50.00m, payment.Planned);
        Assert.StartsWith($"not planned: it needs what account.invoice.write (planned for LOOP-{r.ReturnId}-CN)", payment.Write, StringComparison.Ordinal);
        Assert.Contains("not planned", report.RenderCsv(), StringComparison.Ordinal);
    }

    private static ShadowReportRow Row(ShadowReport report, string returnId, string document) =>
        Assert.Single(report.Rows, r => r.ReturnId == returnId && r.Document == document);
}
