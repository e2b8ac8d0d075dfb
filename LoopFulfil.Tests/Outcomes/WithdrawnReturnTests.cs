namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// A Loop return cancelled after authorisation leaves its return sale processing (Tryton 6.0's <c>sale.cancel</c>
/// moves only draft and quoted sales; the simulator now does the same) with its return shipment cancelled. Its
/// quantities must not count as returned, or the next return of the same unit on that order is refused as a shortfall.
/// </summary>
public sealed class WithdrawnReturnTests
{
    private const string Hoodie = "HOOD/GRY:XL";

    [Fact]
    public async Task Unit_of_a_return_cancelled_after_authorisation_can_be_returned_again_on_the_same_order()
    {
        // #1001 sold one hoodie: the first return takes it, is cancelled, and the second return takes it again.
        await using var h = await OutcomesHarness.StartAsync();
        var first = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(first.Created_());
        await h.SendAsync(first.Webhook("return.updated", "cancelled", 30));
        var second = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(second.Created_());

        Assert.Equal("processing", h.ReturnOrder(first.ReturnId).State);
        var order = h.ReturnOrder(second.ReturnId);
        Assert.Equal(-1m, Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id))).Number("quantity"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }
}
