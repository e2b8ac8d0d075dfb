using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// <c>WriteBack:OrderRefunds</c>: the posted refund credit note recorded on the Loop order (Commerce Data
/// <c>refunds[]</c>) through commerce sync, over both sandboxes (HTTP) and Azurite.
/// </summary>
public sealed class OrderRefundWriteBackTests
{
    private const string TeeM = "TEE-BLK-M";

    [Fact]
    public async Task Cash_refund_is_recorded_once_on_the_loop_order_for_exactly_the_credit_note_amount()
    {
        await using var h = await OutcomesHarness.StartAsync(commerceSync: true);
        // One tee returned (25.00), 2.00 handling fee kept: the credit note, and so Loop's refund, is 23.00.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithHandlingFee(2.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(-23.00m, note.Number("total_amount"));
        var orderId = OriginalSaleId(h);
        var refund = Assert.Single(Refunds(h, orderId));
        Assert.Equal($"LOOP-{r.ReturnId}-CN", (string?)refund["external_id"]);
        Assert.Equal("line_item", (string?)refund["type"]);
        Assert.Equal(2300, (long)refund["amount"]!["amount"]!);
        Assert.Equal("USD", (string?)refund["amount"]!["currency_code"]);
        Assert.Equal(1, (int)refund["line_item"]!["quantity"]!);
        Assert.False((bool)refund["line_item"]!["restock"]!);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$", (string?)refund["created_at"]);
        Assert.Equal(1, OrderWrites(h, orderId));

        // Redelivered, and the timed sync run over everything: the same single refund, no second write of the order.
        for (var i = 0; i < 3; i++)
        {
            await h.SendAsync(r.Closed());
        }

        await h.Services.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.FullPass, null, CancellationToken.None);
        Assert.Single(Refunds(h, orderId));
        Assert.Equal(1, OrderWrites(h, orderId));
        Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(StepStatus.Done, (await h.Ledger.GetStepAsync(r.ReturnId, OutcomeSteps.WriteBackOrderRefund, CancellationToken.None))!.Status);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Two_returned_lines_share_the_refund_and_sum_to_exactly_the_credit_note()
    {
        await using var h = await OutcomesHarness.StartAsync(commerceSync: true);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)).WithHandlingFee(0.01m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());

        var refunds = Refunds(h, OriginalSaleId(h));
        Assert.NotEmpty(refunds);
        Assert.All(refunds, x => Assert.StartsWith($"LOOP-{r.ReturnId}-CN", (string?)x["external_id"], StringComparison.Ordinal));
        Assert.Equal(4999, refunds.Sum(x => (long)x["amount"]!["amount"]!));
        Assert.Equal(2, refunds.Sum(x => (int)x["line_item"]!["quantity"]!));
    }

    [Fact]
    public async Task With_order_refunds_off_nothing_is_recorded_on_the_loop_order()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["WriteBack:OrderRefunds"] = "false" }, commerceSync: true);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        Assert.Single(h.CreditNotes(r.ReturnId));
        var orderId = OriginalSaleId(h);
        Assert.Null(h.Loop.GetCommerceRecord("orders", orderId));
        Assert.Null(await h.Ledger.GetStepAsync(r.ReturnId, OutcomeSteps.WriteBackOrderRefund, CancellationToken.None));

        // The timed sync still pushes the order, with the returned quantity only (no credit note refund).
        await h.Services.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.FullPass, null, CancellationToken.None);
        Assert.DoesNotContain(Refunds(h, orderId), x => ((string?)x["external_id"] ?? "").StartsWith("LOOP-", StringComparison.Ordinal));
    }

    private static string OriginalSaleId(OutcomesHarness h) =>
        Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001"), s => !Equals(s["is_return"], true)).Id.ToString(CultureInfo.InvariantCulture);

    private static IReadOnlyList<JsonObject> Refunds(OutcomesHarness h, string orderExternalId) =>
        [.. (h.Loop.GetCommerceRecord("orders", orderExternalId)?["refunds"] as JsonArray ?? []).OfType<JsonObject>()];

    private static int OrderWrites(OutcomesHarness h, string orderExternalId) =>
        h.Loop.CommerceWrites.Count(w => w.Resource == "orders" && w.Key == orderExternalId);
}
