using System.Text.Json.Nodes;
using LoopFulfil.Sandbox.Books;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Books;

/// <summary>
/// The books oracle on the worked examples of docs/accounting.md (one unit sold at 25.00 with 10% tax, 27.50 charged):
/// the figures in each assertion are the table's. Balances are debit − credit, so a credit is negative.
/// </summary>
public sealed class ExpectedBooksTests
{
    private const string Tee = "TEE-BLK-M";

    [Fact]
    public void Row_1_refund_credits_receivable_by_the_value_and_pays_it_out_through_returns_clearing()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithRefundGateway("shopify_payments", 27.50m)));

        AssertBalances(books, revenue: 25.00m, tax: 2.50m, clearing: -27.50m);
        Assert.Equal(ReturnFate.Processed, books.Fate);
        Assert.Equal((1, 0, 0), (books.CreditNotes, books.StoreCreditEntries, books.ExchangeInvoices));
    }

    [Fact]
    public void Row_2_handling_fee_is_income_and_only_the_rest_is_refunded()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithHandlingFee(2.00m).WithRefundGateway("shopify_payments", 25.50m)));

        Assert.Equal(25.50m, books.Figures.Refund);
        AssertBalances(books, revenue: 25.00m, tax: 2.50m, clearing: -25.50m, fee: -2.00m);
    }

    [Fact]
    public void Row_3_return_shipping_fee_is_income_on_its_own_account()
    {
        var books = ExpectedBooks.For(Payloads(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithRefund(26.00m).WithRefundGateway("shopify_payments", 26.00m))), shippingFee: 1.50m);

        AssertBalances(books, revenue: 25.00m, tax: 2.50m, clearing: -26.00m, shipping: -1.50m);
    }

    [Fact]
    public void Row_4_store_credit_moves_the_value_from_receivable_to_gift_card_liability()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithGiftCard(27.50m)), GiftCardRequested(total: 27.50m, bonus: 0m));

        AssertBalances(books, revenue: 25.00m, tax: 2.50m, liability: -27.50m);
        Assert.Equal((1, 1, 0), (books.CreditNotes, books.StoreCreditEntries, books.ExchangeInvoices));
    }

    [Fact]
    public void Row_5_store_credit_bonus_is_an_expense_and_the_liability_is_the_whole_credit_issued()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithGiftCard(30.00m)), GiftCardRequested(total: 30.00m, bonus: 2.50m));

        AssertBalances(books, revenue: 25.00m, tax: 2.50m, liability: -30.00m, bonus: 2.50m);
    }

    [Fact]
    public void Row_5_bonus_is_read_under_its_legacy_name_too()
    {
        var legacy = GiftCardRequested(total: 30.00m, bonus: 0m);
        legacy.Remove("gift_card_bonus_credit");
        legacy["gift_card_bonus"] = "2.50";

        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithGiftCard(30.00m)), legacy);

        Assert.Equal(2.50m, books.Balances[BookAccount.GiftCardBonus]);
    }

    [Fact]
    public void Row_6_even_exchange_nets_receivable_revenue_and_tax_to_zero()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m, 2.50m)));

        AssertBalances(books);
        Assert.Equal((1, 0, 1), (books.CreditNotes, books.StoreCreditEntries, books.ExchangeInvoices));
    }

    [Fact]
    public void Row_7_upsell_is_collected_through_returns_clearing_and_settles_the_exchange_invoice()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithExchangeOnOriginalOrder("HOOD/GRY:XL", 30.00m, 3.00m).WithUpsell(5.50m)));

        AssertBalances(books, revenue: 25.00m - 30.00m, tax: 2.50m - 3.00m, clearing: 5.50m);
    }

    [Fact]
    public void Row_8_exchange_for_less_refunds_the_difference_through_returns_clearing()
    {
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithExchangeOnOriginalOrder("SOCK-3PK", 20.00m, 2.00m)));

        Assert.Equal(5.50m, books.Figures.Refund);
        AssertBalances(books, revenue: 5.00m, tax: 0.50m, clearing: -5.50m);
    }

    [Fact]
    public void Row_9_mixed_lines_sum_the_rows_and_leave_no_receivable()
    {
        // V 76.45 − F 2.00 = R 19.45 + G 27.50 + X 27.50.
        var books = Expect(
            Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithLine("TEE-BLK-L", 25.00m, tax: 2.50m).WithLine("CAP/RED:OS", 19.50m, tax: 1.95m)
                .WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m, 2.50m).WithGiftCard(27.50m).WithHandlingFee(2.00m).WithRefundGateway("shopify_payments", 19.45m)),
            GiftCardRequested(total: 27.50m, bonus: 0m));

        Assert.Equal(19.45m, books.Figures.Refund);
        AssertBalances(books, revenue: 44.50m, tax: 4.45m, clearing: -19.45m, liability: -27.50m, fee: -2.00m);
    }

    [Fact]
    public void Line_refund_of_zero_gives_the_same_books_as_line_refund_carrying_the_value()
    {
        var valueOnLine = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m, discount: 5.00m).WithGiftCard(22.50m)), GiftCardRequested(total: 22.50m, bonus: 0m));
        var zeroOnLine = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m, discount: 5.00m, refund: 0m).WithGiftCard(22.50m)), GiftCardRequested(total: 22.50m, bonus: 0m));

        Assert.Equal(valueOnLine.Balances, zeroOnLine.Balances);
        AssertBalances(zeroOnLine, revenue: 20.00m, tax: 2.50m, liability: -22.50m);
    }

    [Fact]
    public void Row_11_cancelled_after_authorisation_posts_nothing()
    {
        var books = Expect(Builder(b => b.WithLine(Tee, 25.00m, tax: 2.50m)).WithTrigger("return.updated").WithState("cancelled").BuildJson());

        Assert.Equal(ReturnFate.Cancelled, books.Fate);
        AssertBalances(books);
        Assert.Equal((0, 0, 0), (books.CreditNotes, books.StoreCreditEntries, books.ExchangeInvoices));
    }

    [Fact]
    public void Row_12_closed_without_a_sign_of_processing_posts_nothing_although_loop_names_a_refund()
    {
        var books = Expect(Builder(b => b.WithLine(Tee, 25.00m, tax: 2.50m)).WithTrigger("return.closed").WithState("closed").WithoutProcessing().BuildJson());

        Assert.Equal(27.50m, books.Figures.Refund);
        Assert.Equal(ReturnFate.ClosedWithoutProcessing, books.Fate);
        AssertBalances(books);
    }

    [Fact]
    public void Open_return_posts_nothing_yet()
    {
        var books = Expect(Builder(b => b.WithLine(Tee, 25.00m, tax: 2.50m)).BuildJson());

        Assert.Equal(ReturnFate.Open, books.Fate);
        AssertBalances(books);
    }

    [Fact]
    public void Webhooks_are_grouped_by_return_and_the_latest_return_payload_decides()
    {
        var builder = Builder(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithRefundGateway("shopify_payments", 27.50m));
        var created = builder.BuildJson();
        var closed = builder.WithTrigger("return.closed").WithState("closed").BuildJson();
        var other = LoopReturnBuilder.AReturn("4343").WithLine(Tee, 25.00m, tax: 2.50m).BuildJson();

        var payloads = LoopReturnPayloads.FromWebhooks([created, other, closed]);

        Assert.Equal(2, payloads.Count);
        var total = ExpectedBooks.Sum(payloads.Select(p => ExpectedBooks.For(p)));
        Assert.Equal(-27.50m, total[BookAccount.ReturnsClearing]);
    }

    [Fact]
    public void Chart_compares_per_code_and_counts_an_unnamed_account_as_a_difference()
    {
        var chart = BookChart.From("1200", "4000", "2300", new Dictionary<string, string?>
        {
            ["Fulfil:ReturnsClearingAccountCode"] = "2350",
            ["Fulfil:GiftCardLiabilityAccountCode"] = "2400",
            ["Refunds:HandlingFeeAccountCode"] = "4100",
        });
        var books = Expect(Closed(b => b.WithLine(Tee, 25.00m, tax: 2.50m).WithGiftCard(30.00m)), GiftCardRequested(total: 30.00m, bonus: 2.50m));

        var expected = chart.ByCode(books.Balances);

        Assert.Equal("4100", chart.CodeOf(BookAccount.ShippingFeeIncome));
        Assert.Equal(2.50m, expected["(no account: GiftCardBonus)"]);
        var actual = new Dictionary<string, decimal> { ["4000"] = 25.00m, ["2300"] = 2.50m, ["2400"] = -27.50m, ["1200"] = 0m };
        Assert.Equal(2.50m + 2.50m, chart.Difference(expected, actual));
    }

    private static LoopReturnBuilder Builder(Action<LoopReturnBuilder> configure)
    {
        var b = LoopReturnBuilder.AReturn("4242");
        configure(b);
        return b;
    }

    private static JsonObject Closed(Action<LoopReturnBuilder> configure) => Builder(configure).WithTrigger("return.closed").WithState("closed").BuildJson();

    private static JsonObject GiftCardRequested(decimal total, decimal bonus) => LoopPayloads.GiftCardRequested("4242", total, bonus, tax: 2.50m);

    private static LoopReturnPayloads Payloads(JsonObject returnPayload, params JsonObject[] giftCards) =>
        Assert.Single(LoopReturnPayloads.FromWebhooks([returnPayload, .. giftCards]));

    private static ExpectedReturnBooks Expect(JsonObject returnPayload, params JsonObject[] giftCards)
    {
        var books = ExpectedBooks.For(Payloads(returnPayload, giftCards));
        return books;
    }

    private static void AssertBalances(ExpectedReturnBooks books, decimal revenue = 0m, decimal tax = 0m, decimal clearing = 0m, decimal liability = 0m,
        decimal bonus = 0m, decimal fee = 0m, decimal shipping = 0m)
    {
        var expected = new Dictionary<BookAccount, decimal>
        {
            [BookAccount.Receivable] = 0m,
            [BookAccount.Revenue] = revenue,
            [BookAccount.Tax] = tax,
            [BookAccount.ReturnsClearing] = clearing,
            [BookAccount.GiftCardLiability] = liability,
            [BookAccount.GiftCardBonus] = bonus,
            [BookAccount.HandlingFeeIncome] = fee,
            [BookAccount.ShippingFeeIncome] = shipping,
        };
        Assert.Equal(expected, books.Balances);
        Assert.Equal(0m, books.ReceivableResidue);
    }
}
