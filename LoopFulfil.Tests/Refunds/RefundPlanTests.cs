using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Refunds;

/// <summary>
/// docs/accounting.md "Names used below": the plan takes values from price, discount and tax, never from the line
/// <c>refund</c>, so both payload shapes Loop sends (line refund = the unit's value, or 0 with the money in
/// <c>gift_card</c> / <c>exchange_credit_total</c> / <c>refund</c>) give the same documents. Expected figures are worked
/// out here from the payload figures.
/// </summary>
public sealed class RefundPlanTests
{
    private const string Tee = "TEE-BLK-M";
    private const string Hoodie = "HOOD/GRY:XL";

    /// <summary>Each outcome, as a builder step given the line refund to write (null: the unit's value; 0: nothing).</summary>
    public static TheoryData<string> OutcomeNames => ["store credit", "even exchange", "refund with handling fee", "mixed lines", "discounted refund"];

    [Theory]
    [MemberData(nameof(OutcomeNames))]
    public void Both_payload_shapes_give_the_same_documents_valued_from_price_discount_and_tax(string outcome)
    {
        var valued = Build(outcome, lineRefund: null);
        var zeroed = Build(outcome, lineRefund: 0m);
        Assert.All(zeroed.LineItems, l => Assert.Equal(0m, l.Refund));

        var a = RefundPlan.For(valued, 0m, "USD");
        var b = RefundPlan.For(zeroed, 0m, "USD");

        Assert.Null(a.Mismatch);
        Assert.Null(b.Mismatch);
        Assert.Equal(a.Postings.Select(p => p with { ReturnId = "", Reference = p.Kind }), b.Postings.Select(p => p with { ReturnId = "", Reference = p.Kind }));
        // One credit note for every returned unit: Σ(price − discount + tax) less the fee, with Loop's tax as the check.
        var note = Assert.Single(b.Postings, p => p.Kind == LoopReferences.CreditNote);
        var value = zeroed.LineItems.Sum(l => l.Price - l.Discount + l.Tax);
        Assert.Equal(value - zeroed.HandlingFee, note.Amount);
        Assert.Equal(zeroed.LineItems.Sum(l => l.Tax), note.Tax);
        Assert.Equal(zeroed.HandlingFee, note.HandlingFee);
        // What settles it: the cash refund and the store credit, each its own document (the exchange is the exchange invoice).
        Assert.Equal(zeroed.Refund, b.Postings.Where(p => p.Kind == LoopReferences.RefundPayment).Sum(p => p.Amount));
        Assert.Equal(zeroed.GiftCard, b.Postings.Where(p => p.Kind == LoopReferences.StoreCredit).Sum(p => p.Amount));
    }

    [Fact]
    public void Line_refunds_that_disagree_with_the_header_are_not_a_mismatch_but_header_figures_that_do_not_settle_the_lines_are()
    {
        var odd = LoopReturnBuilder.AReturn().WithLine(Tee, 25.00m, tax: 2.50m, refund: 999.00m).Build();
        Assert.Null(RefundPlan.For(odd, 0m, "USD").Mismatch);

        // 27.50 returned but Loop says 30.00 was refunded: the figures do not reconcile, nothing is planned.
        var over = LoopReturnBuilder.AReturn().WithLine(Tee, 25.00m, tax: 2.50m).WithRefund(30.00m).Build();
        var plan = RefundPlan.For(over, 0m, "USD");
        Assert.Empty(plan.Postings);
        Assert.Contains("27.50", plan.Mismatch, StringComparison.Ordinal);
        Assert.Contains("30.00", plan.Mismatch, StringComparison.Ordinal);
        Assert.Null(RefundPlan.For(over, 2.50m, "USD").Mismatch);
    }

    [Fact]
    public void Gift_card_bonus_from_giftcard_requested_is_its_own_document_and_the_liability_carries_the_whole_credit_issued()
    {
        const decimal issued = 30.00m, bonus = 2.50m;
        var r = LoopReturnBuilder.AReturn().WithLine(Tee, 25.00m, tax: 2.50m, refund: 0m).WithGiftCard(issued - bonus).Build();
        var card = new LoopGiftCardEvent { TotalCreditIssued = issued, GiftCardBonusCredit = bonus, Currency = "USD", ReturnId = r.Id };

        var plan = RefundPlan.For(r, 0m, "USD", StoreCreditDocument.Journal, card);

        Assert.Null(plan.Mismatch);
        Assert.Equal(issued - bonus, Assert.Single(plan.Postings, p => p.Kind == LoopReferences.StoreCredit).Amount);
        Assert.Equal(bonus, Assert.Single(plan.Postings, p => p.Kind == LoopReferences.GiftCardBonus).Amount);
        Assert.Equal(issued, plan.Postings.Where(p => p.Kind is LoopReferences.StoreCredit or LoopReferences.GiftCardBonus).Sum(p => p.Amount));
        // The legacy field name carries the same bonus.
        var legacy = new LoopGiftCardEvent { TotalCreditIssued = issued, GiftCardBonus = bonus, Currency = "USD" };
        Assert.Equal(plan.Postings, RefundPlan.For(r, 0m, "USD", StoreCreditDocument.Journal, legacy).Postings);
    }

    [Fact]
    public void Gift_card_mode_plans_the_card_for_the_whole_credit_and_the_store_credit_and_bonus_journals_that_book_it()
    {
        // Row 5 in gift-card mode: V = 27.50, Loop issues G = 30.00 of which B = 2.50 is bonus.
        const decimal issued = 30.00m, bonus = 2.50m;
        var r = LoopReturnBuilder.AReturn().WithLine(Tee, 25.00m, tax: 2.50m, refund: 0m).WithGiftCard(issued).Build();
        var card = new LoopGiftCardEvent { TotalCreditIssued = issued, GiftCardBonusCredit = bonus, Currency = "USD", ReturnId = r.Id };

        var plan = RefundPlan.For(r, 0m, "USD", StoreCreditDocument.GiftCard, card);

        Assert.Null(plan.Mismatch);
        Assert.Equal(
            [(LoopReferences.CreditNote, 27.50m), (LoopReferences.GiftCard, issued), (LoopReferences.StoreCredit, issued - bonus), (LoopReferences.GiftCardBonus, bonus)],
            plan.Postings.Select(p => (p.Kind, p.Amount)));
    }

    [Fact]
    public void Exchange_priced_above_the_return_without_upsell_is_a_mismatch_even_when_exchange_credit_total_matches_the_return()
    {
        // 25.00 returned for a 33.00 item, Loop says no upsell; exchange_credit_total (25.00) alone would "settle" it, but
        // the exchange invoice of 33.00 less an upsell of 0 can never net against the 25.00 credit note on the receivable.
        const decimal returned = 25.00m, exchanged = 33.00m;
        var r = LoopReturnBuilder.AReturn().WithLine(Tee, returned).WithExchangeOnOriginalOrder("TEE-BLK-L", exchanged).Build();
        Assert.Equal(returned, r.ExchangeCreditTotal);

        var plan = RefundPlan.For(r, 0m, "USD");

        Assert.Empty(plan.Postings);
        Assert.Contains("33.00", plan.Mismatch, StringComparison.Ordinal);
        Assert.Contains("25.00", plan.Mismatch, StringComparison.Ordinal);
        // With the upsell Loop collected (X − U = V) the same exchange plans.
        Assert.Null(RefundPlan.For(LoopReturnBuilder.AReturn().WithLine(Tee, returned).WithExchangeOnOriginalOrder("TEE-BLK-L", exchanged).WithUpsell(exchanged - returned).Build(), 0m, "USD").Mismatch);
    }

    [Theory]
    [InlineData("EUR", null)]
    [InlineData("USD", "CAD")]
    public void Money_in_another_currency_than_the_shop_books_posts_nothing_and_says_why(string returnCurrency, string? giftCardCurrency)
    {
        var r = LoopReturnBuilder.AReturn().WithCurrency(returnCurrency).WithLine(Tee, 25.00m).WithGiftCard(25.00m).Build();
        var card = giftCardCurrency is null ? null : new LoopGiftCardEvent { TotalCreditIssued = 25.00m, Currency = giftCardCurrency };

        var plan = RefundPlan.For(r, 0m, "USD", StoreCreditDocument.Journal, card);

        Assert.Empty(plan.Postings);
        Assert.Contains(giftCardCurrency ?? returnCurrency, plan.Mismatch, StringComparison.Ordinal);
    }

    private static LoopReturn Build(string outcome, decimal? lineRefund)
    {
        var b = LoopReturnBuilder.AReturn("plan-" + outcome.Replace(' ', '-'));
        return outcome switch
        {
            "store credit" => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: lineRefund).WithGiftCard(27.50m).Build(),
            "even exchange" => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: lineRefund).WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m, 2.50m).Build(),
            "refund with handling fee" => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: lineRefund).WithHandlingFee(2.00m).Build(),
            "mixed lines" => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: lineRefund).WithLine(Hoodie, 79.99m, tax: 8.00m, refund: lineRefund)
                .WithGiftCard(50.00m).WithHandlingFee(3.00m).Build(),
            "discounted refund" => b.WithLine(Tee, 25.00m, tax: 2.00m, discount: 5.00m, refund: lineRefund).Build(),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
        };
    }
}
