using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// Tryton rule: <c>sale.cancel</c> is a <c>Workflow.transition('cancelled')</c> whose <c>_transitions</c> start only
/// from draft and quotation, so a processing return sale is skipped without an error and stays processing; the
/// integration cancels its draft return shipment and credit note instead. Such a withdrawn return sale must not
/// count as returned quantity when a later return on the same order is matched.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonWithdrawnReturnTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    [Fact]
    public async Task Unit_of_a_return_cancelled_after_authorisation_can_be_returned_again_while_tryton_keeps_the_first_return_sale_processing()
    {
        await using var h = await StartAsync();
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", (Tee, 1m, Price));
        var first = new OutcomeReturn(orderName, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(first.Created_());
        await h.SendAsync(first.Webhook("return.updated", "cancelled", 30));
        var second = new OutcomeReturn(orderName, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(second.Created_());

        Assert.Equal("processing", Assert.Single(await h.ReturnOrders(first.ReturnId)).GetProperty("state").GetString());
        var order = Assert.Single(await h.ReturnOrders(second.ReturnId));
        var line = Assert.Single(await h.Rows("sale.line", [new object[] { "sale", "=", order.GetProperty("id").GetInt32() }], "quantity"));
        Assert.Equal(-1m, line.GetProperty("quantity").GetDecimal());
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(-(Price + Tax), Dec(note, "total_amount"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }
}
