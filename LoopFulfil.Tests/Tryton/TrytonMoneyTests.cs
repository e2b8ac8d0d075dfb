using System.Text.Json;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// docs/accounting.md rows 1, 2, 4 and 5 on the real engine: Tryton makes the return sale's credit note (invoice method
/// order) from the unit prices LoopFulfil passes, with the sale line's taxes; LoopFulfil adds the fee line, posts it and
/// settles the receivable. Expected account movements are worked out from the Loop payload figures; each account is
/// read from Tryton before and after (its balance is debit − credit).
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonMoneyTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    private const decimal SalePrice = Price;
    private const decimal Rate = 0.10m;

    [Fact]
    public async Task Discounted_refund_with_handling_fee_credits_revenue_and_tax_at_price_less_discount_and_nets_the_receivable_to_zero()
    {
        await using var h = await StartAsync();
        const decimal price = SalePrice, discount = 5.00m, fee = 2.00m;
        var tax = (price - discount) * Rate;
        var refund = price - discount + tax - fee;
        var (r, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, price, tax: tax, discount: discount, refund: 0m, lineItemId: x.Line(1)).WithHandlingFee(fee).WithRefund(refund));
        var before = await BalancesAsync(h);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", $"LOOP-{r.ReturnId}-CN", -refund, -tax), (note.GetProperty("state").GetString(), note.GetProperty("reference").GetString(), Dec(note, "total_amount"), Dec(note, "tax_amount")));
        var moved = Delta(before, await BalancesAsync(h));
        Assert.Equal(price - discount, moved[TrytonEngine.Codes.Revenue]);
        Assert.Equal(tax, moved[TrytonEngine.Codes.Tax]);
        Assert.Equal(-fee, moved[TrytonEngine.Codes.HandlingFees]);
        Assert.Equal(-refund, moved[TrytonEngine.Codes.ReturnsClearing]);
        Assert.Equal(0m, moved[TrytonEngine.Codes.Receivable]);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Store_credit_with_bonus_credits_the_liability_with_the_whole_credit_issued_and_nets_the_receivable_to_zero()
    {
        await using var h = await StartAsync();
        const decimal price = SalePrice, bonus = 2.50m;
        var tax = price * Rate;
        var issued = price + tax + bonus;
        var (r, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, price, tax: tax, refund: 0m, lineItemId: x.Line(1)).WithGiftCard(issued - bonus));
        var before = await BalancesAsync(h);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());
        await h.SendAsync(LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, issued, bonus));

        var moved = Delta(before, await BalancesAsync(h));
        Assert.Equal(price, moved[TrytonEngine.Codes.Revenue]);
        Assert.Equal(tax, moved[TrytonEngine.Codes.Tax]);
        Assert.Equal(-issued, moved[TrytonEngine.Codes.GiftCardLiability]);
        Assert.Equal(bonus, moved[TrytonEngine.Codes.Expense]);
        Assert.Equal(0m, moved[TrytonEngine.Codes.Receivable]);
        Assert.Equal(0m, moved[TrytonEngine.Codes.ReturnsClearing]);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

}
