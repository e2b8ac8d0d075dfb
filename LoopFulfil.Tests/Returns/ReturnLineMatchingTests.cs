using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// Issue #15 item 9: two returns on one order and edited returns. The commerce push sends each Fulfil sale line's id
/// as the Loop order line's external id, so Loop's <c>provider_line_item_id</c> is that id; each sale line's
/// returnable quantity counts the return orders already made against it; an edit before receipt replaces the return
/// order instead of leaving it stale.
/// </summary>
public sealed class ReturnLineMatchingTests
{
    private const string TeeM = "TEE-BLK-M";

    [Fact]
    public async Task Unit_goes_to_the_sale_line_whose_id_the_commerce_push_sent_as_loops_provider_line_item_id()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var (order, first, second) = TwoTeeLines(h);
        var r = new OutcomeReturn(order, (b, x) => b.WithLine(TeeM, 20.00m, lineItemId: x.Line(1), providerLineItemId: Text(second))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());

        Assert.Equal([second], OriginLines(h, r.ReturnId));
        Assert.NotEqual(first, second);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Second_return_on_one_order_goes_to_the_line_the_first_did_not_take()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var (order, first, second) = TwoTeeLines(h);
        var r1 = new OutcomeReturn(order, (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "shop-1")).AddTo(h.Loop);
        var r2 = new OutcomeReturn(order, (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "shop-2")).AddTo(h.Loop);

        await h.SendAsync(r1.Created_());
        await h.SendAsync(r2.Created_());

        Assert.Equal([first], OriginLines(h, r1.ReturnId));
        Assert.Equal([second], OriginLines(h, r2.ReturnId));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Second_return_asking_more_than_remains_returnable_makes_no_return_order_and_raises_a_conflict()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var (order, _, _) = TwoTeeLines(h);
        var r1 = new OutcomeReturn(order, (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);
        var r2 = new OutcomeReturn(order, (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(r1.Created_());
        var calls = h.Fulfil.RequestCount("PUT", "/return_order");

        await h.SendAsync(r2.Created_());

        Assert.Empty(h.ReturnOrders(r2.ReturnId));
        Assert.Equal(calls, h.Fulfil.RequestCount("PUT", "/return_order"));
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.ReturnStateConflict, record.Category);
        Assert.Contains("0 still returnable", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edited_return_replaces_its_return_order_with_the_current_lines_once_and_receives_only_those()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var edited = false;
        var r = new OutcomeReturn("#1001", (b, x) =>
        {
            b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1));
            if (!edited)
            {
                b.WithLine(TeeM, 25.00m, lineItemId: x.Line(2));
            }
        }).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        var stale = Assert.Single(h.ReturnOrders(r.ReturnId)).Id;
        var quarantine = h.Stock(TeeM, FulfilSandboxDemo.QuarantineLocationCode);

        edited = true;
        var edit = r.Webhook("return.updated", "open", 10);
        await h.SendAsync(edit);
        await h.SendAsync(edit);

        var current = Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.NotEqual(stale, current.Id);
        Assert.Equal(-1m, Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), current.Id))).Number("quantity"));
        Assert.Equal("processing", h.Fulfil.State.Get("sale.sale", stale).State);
        Assert.All(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), stale)), s => Assert.Equal("cancelled", s.State));

        await h.SendAsync(r.LabelUpdated("delivered"));

        Assert.Equal(1m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(quarantine + 1, h.Stock(TeeM, FulfilSandboxDemo.QuarantineLocationCode));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Edit_after_the_parcel_was_received_keeps_the_return_order_and_raises_a_conflict()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var edited = false;
        var r = new OutcomeReturn("#1001", (b, x) =>
        {
            b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1));
            if (!edited)
            {
                b.WithLine(TeeM, 25.00m, lineItemId: x.Line(2));
            }
        }).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.LabelUpdated("delivered"));
        var order = Assert.Single(h.ReturnOrders(r.ReturnId)).Id;

        edited = true;
        await h.SendAsync(r.Webhook("return.updated", "open", 10));

        Assert.Equal(order, Assert.Single(h.ReturnOrders(r.ReturnId)).Id);
        Assert.Equal(2m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(ExceptionCategory.ReturnStateConflict, Assert.Single(await h.ExceptionRecordsAsync()).Category);
    }

    /// <summary>A shipped sale with two lines of the same tee (as two order lines in the shop).</summary>
    private static (string Order, int First, int Second) TwoTeeLines(OutcomesHarness h)
    {
        var order = "#M" + Guid.NewGuid().ToString("N")[..8];
        var party = h.Fulfil.State.AddParty("Two Lines Customer");
        var sale = h.Fulfil.State.AddSale(order, "555000" + order.TrimStart('#'), party, "done", (TeeM, 1m, 25.00m), (TeeM, 1m, 25.00m));
        int[] lines = [.. h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), sale)).Select(l => l.Id).Order()];
        return (order, lines[0], lines[1]);
    }

    private static int[] OriginLines(OutcomesHarness h, string returnId) =>
        [.. h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), h.ReturnOrder(returnId).Id)).Select(l => l.Ref("origin_line") ?? 0)];

    private static string Text(int id) => id.ToString(CultureInfo.InvariantCulture);
}
