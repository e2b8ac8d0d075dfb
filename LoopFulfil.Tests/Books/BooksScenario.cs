using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Books;

/// <summary>How Loop ends a return of a books scenario.</summary>
internal enum BooksEnding
{
    /// <summary>Closed with its outcomes run: refunds[] filled, the exchange order made, giftcard.requested sent.</summary>
    Processed,

    /// <summary><c>return.updated</c> with state cancelled after the return order was made (row 11).</summary>
    Cancelled,

    /// <summary><c>return.closed</c> with no sign that outcomes ran (row 12).</summary>
    ClosedWithoutProcessing,
}

/// <summary>One Loop return of a scenario.</summary>
/// <param name="Lines">Lines and money of every payload of the return (the closed one adds the processed signals).</param>
/// <param name="RefundPaid">refunds[] amount Loop reports once processed (the refund ran at the gateway).</param>
/// <param name="GiftCard">giftcard.requested sent after closing: total credit issued, bonus, tax.</param>
/// <param name="Passed">Inspection verdict per unit (true: back to stock, false: damaged); null: no parcel arrives.</param>
internal sealed record BooksReturnSpec(
    Action<LoopReturnBuilder, BooksReturn> Lines,
    BooksEnding Ending = BooksEnding.Processed,
    decimal RefundPaid = 0m,
    (decimal Total, decimal Bonus, decimal Tax)? GiftCard = null,
    bool[]? Passed = null);

/// <summary>A row of docs/accounting.md played on the engine: a shipped sale, then its Loop returns in order.</summary>
internal sealed record BooksScenario(string Name, (string Sku, decimal Quantity, decimal Price)[] Sale, params BooksReturnSpec[] Returns)
{
    public override string ToString() => Name;
}

/// <summary>A Loop return of a books scenario (a demo sale's) with stable ids; the closed payload carries the processed signals.</summary>
internal sealed class BooksReturn(string orderName, BooksReturnSpec spec)
{
    private bool _processed;

    public string ReturnId { get; } = LoopReturnBuilder.NextId();

    public string OrderName => orderName;

    public BooksReturnSpec Spec { get; } = spec;

    public string Line(int n) => LoopReturnBuilder.LineId(ReturnId, n);

    public JsonObject Json(string state, int minutes) => Body(state, minutes).ReturnJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Body(state, minutes).Webhook(trigger);

    public byte[] CreatedWebhook() => Webhook("return.created", "open", 0);

    public byte[] CancelledWebhook() => Webhook("return.updated", "cancelled", 30);

    public byte[] ClosedWebhook(bool processed)
    {
        _processed = processed;
        return Webhook("return.closed", "closed", 120);
    }

    // A fresh builder per body: whether the close was processed shapes that body only.
    private LoopReturnBuilder Body(string state, int minutes) =>
        LoopReturnBuilder.ForDemoSale(orderName, ReturnId).AsOf(state, minutes).Configure(Configure);

    private void Configure(LoopReturnBuilder builder)
    {
        Spec.Lines(builder, this);
        if (_processed && Spec.RefundPaid > 0)
        {
            builder.WithRefundGateway("shopify_payments", Spec.RefundPaid);
        }
        else if (!_processed)
        {
            // The builder's closed return is a processed one (refunds[] filled); Loop's Close Return leaves it empty.
            builder.WithoutProcessing();
        }
    }
}

/// <summary>
/// The scenario set: every row of docs/accounting.md that a Loop payload can express, in both payload shapes where the
/// shape matters (line <c>refund</c> carrying the value, or 0 with the money in the header). Row 3 (return shipping
/// fee) is not here: Loop's return payload has no field for it. Prices are Tryton's (the sale charged 10% tax).
/// </summary>
internal static class BooksScenarios
{
    public const string Tee = "TEE-BLK-M";
    public const string TeeL = "TEE-BLK-L";
    public const string Cap = "CAP/RED:OS";
    public const string Hoodie = "HOOD/GRY:XL";
    public const string Socks = "SOCK-3PK";

    private static readonly (string, decimal, decimal)[] TwoTees = [(Tee, 1m, 25.00m), (TeeL, 1m, 25.00m)];

    public static BooksScenario Refund(bool lineCarriesValue) => new(Named(1, "refund", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)), RefundPaid: 27.50m, Passed: [true]));

    public static BooksScenario HandlingFee(bool lineCarriesValue) => new(Named(2, "refund with handling fee", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithHandlingFee(2.00m), RefundPaid: 25.50m, Passed: [true]));

    public static BooksScenario StoreCredit(bool lineCarriesValue) => new(Named(4, "store credit", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithGiftCard(27.50m), GiftCard: (27.50m, 0m, 2.50m), Passed: [true]));

    public static BooksScenario StoreCreditWithBonus(bool lineCarriesValue) => new(Named(5, "store credit with bonus", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithGiftCard(30.00m), GiftCard: (30.00m, 2.50m, 2.50m), Passed: [true]));

    public static BooksScenario EvenExchange(bool lineCarriesValue) => new(Named(6, "even exchange", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m, 2.50m), Passed: [true]));

    /// <summary>The hoodie at 79.99 + 8.00 tax for a 27.50 tee: Loop collects 60.49.</summary>
    public static BooksScenario Upsell(bool lineCarriesValue) => new(Named(7, "exchange with upsell", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(Hoodie, 79.99m, 8.00m).WithUpsell(60.49m), Passed: [true]));

    /// <summary>Socks at 12.00 + 1.20 tax for a 27.50 tee: Loop refunds 14.30.</summary>
    public static BooksScenario ExchangeForLess(bool lineCarriesValue) => new(Named(8, "exchange with the difference refunded", lineCarriesValue), TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(Socks, 12.00m, 1.20m), RefundPaid: 14.30m, Passed: [true]));

    /// <summary>Three units: V 76.45 − fee 2.00 = refund 19.45 + store credit 27.50 + exchange 27.50; the cap is damaged.</summary>
    public static BooksScenario Mixed(bool lineCarriesValue) => new(Named(9, "mixed lines", lineCarriesValue), [(Tee, 1m, 25.00m), (TeeL, 1m, 25.00m), (Cap, 1m, 19.50m)],
        new BooksReturnSpec(
            (b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(1))
                .WithLine(TeeL, 25.00m, tax: 2.50m, refund: Line(lineCarriesValue), lineItemId: x.Line(2))
                .WithLine(Cap, 19.50m, tax: 1.95m, refund: Line(lineCarriesValue), lineItemId: x.Line(3))
                .WithExchangeOnOriginalOrder(TeeL, 25.00m, 2.50m).WithGiftCard(27.50m).WithHandlingFee(2.00m),
            RefundPaid: 19.45m, GiftCard: (27.50m, 0m, 2.50m), Passed: [true, true, false]));

    /// <summary>Two tees on one order line; each is returned on its own return, one after the other.</summary>
    public static BooksScenario TwoReturnsOnOneOrder()
    {
        var unit = new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1), providerLineItemId: "9" + x.OrderName.TrimStart('#')), RefundPaid: 27.50m, Passed: [true]);
        return new BooksScenario("row 10: partial returns, two on one order line", [(Tee, 2m, 25.00m), (TeeL, 1m, 25.00m)], unit, unit);
    }

    public static BooksScenario CancelledAfterAuthorisation() => new("row 11: cancelled after authorisation", TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1)), BooksEnding.Cancelled));

    public static BooksScenario ClosedWithoutProcessing() => new("row 12: closed without processing", TwoTees,
        new BooksReturnSpec((b, x) => b.WithLine(Tee, 25.00m, tax: 2.50m, lineItemId: x.Line(1)), BooksEnding.ClosedWithoutProcessing));

    /// <summary>The line's refund: its value (price − discount + tax, as the builder writes it) or 0.</summary>
    private static decimal? Line(bool carriesValue) => carriesValue ? null : 0m;

    private static string Named(int row, string outcome, bool lineCarriesValue) => string.Create(CultureInfo.InvariantCulture,
        $"row {row}: {outcome}, line refund {(lineCarriesValue ? "carrying the value" : "0 with the money in the header")}");
}
