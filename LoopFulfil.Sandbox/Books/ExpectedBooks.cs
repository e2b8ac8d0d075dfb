using System.Globalization;
using System.Text.Json.Nodes;

namespace LoopFulfil.Sandbox.Books;

/// <summary>The accounts of docs/accounting.md that a return moves.</summary>
public enum BookAccount
{
    Receivable,
    Revenue,
    Tax,
    ReturnsClearing,
    GiftCardLiability,
    GiftCardBonus,
    HandlingFeeIncome,
    ShippingFeeIncome,
}

/// <summary>What Loop did with a return, as its payloads tell it (docs/accounting.md rows 11 and 12).</summary>
public enum ReturnFate
{
    /// <summary>Still open (or in review): nothing is final, nothing posts.</summary>
    Open,

    /// <summary>Closed with a sign that its outcomes ran: money posts.</summary>
    Processed,

    /// <summary>Cancelled or expired: nothing posts (row 11).</summary>
    Cancelled,

    /// <summary>Closed with no sign that outcomes ran: nothing posts until finance confirms (row 12).</summary>
    ClosedWithoutProcessing,
}

/// <summary>
/// The Loop payloads of one return: its latest <c>return</c> webhook, any <c>giftcard.requested</c> and whether
/// <c>restock.requested</c> came. Built from raw webhook bodies so that nothing of LoopFulfil reads them first.
/// </summary>
public sealed class LoopReturnPayloads(string returnId)
{
    public string ReturnId { get; } = returnId;

    /// <summary>The latest payload of topic <c>return</c> (created, updated, closed).</summary>
    public JsonObject? Return { get; set; }

    public List<JsonObject> GiftCards { get; } = [];

    public bool RestockRequested { get; set; }

    /// <summary>Groups webhook bodies by return, in the order given (the later <c>return</c> payload wins).</summary>
    public static IReadOnlyList<LoopReturnPayloads> FromWebhooks(IEnumerable<JsonObject> bodies)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        var byId = new Dictionary<string, LoopReturnPayloads>(StringComparer.Ordinal);
        foreach (var body in bodies)
        {
            var topic = Text(body["topic"]);
            var trigger = Text(body["trigger"]);
            var id = topic switch
            {
                "giftcard" => Text(body["return_id"]),
                "return" or "restock" => Text(body["id"]),
                _ => null,
            };
            if (id is null)
            {
                continue;
            }

            if (!byId.TryGetValue(id, out var payloads))
            {
                payloads = byId[id] = new LoopReturnPayloads(id);
            }

            if (topic == "return")
            {
                payloads.Return = body;
            }
            else if (trigger == "giftcard.requested" && !payloads.GiftCards.Any(g => g.ToJsonString() == body.ToJsonString()))
            {
                // A redelivered webhook is the same gift card, not a second one.
                payloads.GiftCards.Add(body);
            }
            else if (trigger == "restock.requested")
            {
                payloads.RestockRequested = true;
            }
        }

        return [.. byId.Values];
    }

    internal static string? Text(JsonNode? node) => node is JsonValue v
        ? v.TryGetValue(out string? s) ? s : v.ToJsonString()
        : null;
}

/// <summary>
/// The letters of docs/accounting.md, read from the payloads: N net, T tax, F handling fee, S shipping fee, R cash
/// refund, G store credit issued, B bonus, X exchange value (Xn net, Xt tax), U upsell.
/// </summary>
public sealed record ReturnFigures(decimal Net, decimal Tax, decimal HandlingFee, decimal ShippingFee, decimal Refund, decimal GiftCard, decimal Bonus, decimal Exchange, decimal ExchangeNet, decimal ExchangeTax, decimal Upsell)
{
    /// <summary>V = N + T: the value of the returned units, tax included.</summary>
    public decimal Value => Net + Tax;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"V {Value:0.00} (N {Net:0.00}, T {Tax:0.00}), F {HandlingFee:0.00}, S {ShippingFee:0.00}, R {Refund:0.00}, G {GiftCard:0.00}, B {Bonus:0.00}, X {Exchange:0.00}, U {Upsell:0.00}");
}

/// <summary>What one return should leave in the books, and the documents that carry it.</summary>
/// <param name="Balances">Debit − credit per account (Tryton's sign: a credit lowers the balance).</param>
/// <param name="CreditNotes">Posted credit notes for the return (one per processed return with returned value).</param>
/// <param name="StoreCreditEntries">Posted store-credit documents (one when store credit was issued).</param>
/// <param name="ExchangeInvoices">Posted invoices of the exchange sale (one when an exchange was made).</param>
public sealed record ExpectedReturnBooks(string ReturnId, ReturnFate Fate, ReturnFigures Figures, IReadOnlyDictionary<BookAccount, decimal> Balances, int CreditNotes, int StoreCreditEntries, int ExchangeInvoices)
{
    /// <summary>The receivable left after every document: 0 when Loop's figures reconcile (V − F − S = R + (G − B) + X − U).</summary>
    public decimal ReceivableResidue => Balances[BookAccount.Receivable];
}

/// <summary>
/// The books test's oracle: the balance each account of docs/accounting.md should show for a return, computed from
/// Loop's payloads alone with the debit and credit columns of the table. It never reads LoopFulfil's plan (it lives
/// outside Core and does not reference it). Lines are valued at price − discount + tax; the line <c>refund</c> field is
/// not a money source (both payload shapes give the same books).
/// </summary>
public static class ExpectedBooks
{
    private static readonly BookAccount[] Accounts = Enum.GetValues<BookAccount>();

    /// <param name="shippingFee">S: a return label fee the shop charges (not a field of Loop's return payload).</param>
    public static ExpectedReturnBooks For(LoopReturnPayloads payloads, decimal shippingFee = 0m)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var r = payloads.Return ?? throw new ArgumentException($"Return {payloads.ReturnId} has no return payload.", nameof(payloads));
        var f = Figures(r, payloads.GiftCards, shippingFee);
        var fate = FateOf(r, payloads);
        var balances = Accounts.ToDictionary(a => a, _ => 0m);
        if (fate != ReturnFate.Processed)
        {
            return new ExpectedReturnBooks(payloads.ReturnId, fate, f, balances, 0, 0, 0);
        }

        // Credit note (rows 1-3): Dr Revenue N, Dr Tax T, Cr Receivable V − F − S, Cr fee incomes F and S.
        Post(BookAccount.Revenue, f.Net);
        Post(BookAccount.Tax, f.Tax);
        Post(BookAccount.Receivable, -(f.Value - f.HandlingFee - f.ShippingFee));
        Post(BookAccount.HandlingFeeIncome, -f.HandlingFee);
        Post(BookAccount.ShippingFeeIncome, -f.ShippingFee);
        // Refund payment (row 1): Dr Receivable R, Cr Returns clearing R.
        Post(BookAccount.Receivable, f.Refund);
        Post(BookAccount.ReturnsClearing, -f.Refund);
        // Store credit (rows 4-5): Dr Receivable G − B, Dr Bonus B, Cr Liability G.
        Post(BookAccount.Receivable, f.GiftCard - f.Bonus);
        Post(BookAccount.GiftCardBonus, f.Bonus);
        Post(BookAccount.GiftCardLiability, -f.GiftCard);
        // Exchange invoice (row 6): Dr Receivable X, Cr Revenue Xn, Cr Tax Xt.
        Post(BookAccount.Receivable, f.Exchange);
        Post(BookAccount.Revenue, -f.ExchangeNet);
        Post(BookAccount.Tax, -f.ExchangeTax);
        // Upsell collected (row 7): Dr Returns clearing U, Cr Receivable U.
        Post(BookAccount.ReturnsClearing, f.Upsell);
        Post(BookAccount.Receivable, -f.Upsell);
        return new ExpectedReturnBooks(payloads.ReturnId, fate, f, balances,
            CreditNotes: f.Value > 0 ? 1 : 0,
            StoreCreditEntries: f.GiftCard > 0 ? 1 : 0,
            ExchangeInvoices: f.Exchange > 0 ? 1 : 0);

        void Post(BookAccount account, decimal amount) => balances[account] += amount;
    }

    /// <summary>Account by account, the sum over returns.</summary>
    public static IReadOnlyDictionary<BookAccount, decimal> Sum(IEnumerable<ExpectedReturnBooks> returns)
    {
        ArgumentNullException.ThrowIfNull(returns);
        var total = Accounts.ToDictionary(a => a, _ => 0m);
        foreach (var r in returns)
        {
            foreach (var (account, amount) in r.Balances)
            {
                total[account] += amount;
            }
        }

        return total;
    }

    /// <summary>
    /// Processed, closed without processing, cancelled or open. Signs that outcomes ran (accounting.md row 12):
    /// a non-empty <c>refunds[]</c>, an exchange order id, <c>giftcard.requested</c> or <c>restock.requested</c>.
    /// </summary>
    public static ReturnFate FateOf(JsonObject returnPayload, LoopReturnPayloads payloads)
    {
        ArgumentNullException.ThrowIfNull(returnPayload);
        ArgumentNullException.ThrowIfNull(payloads);
        switch (LoopReturnPayloads.Text(returnPayload["state"]))
        {
            case "cancelled" or "expired":
                return ReturnFate.Cancelled;
            case "closed":
                var refunded = returnPayload["refunds"] is JsonArray { Count: > 0 };
                var exchanged = returnPayload["exchanges"] is JsonArray exchanges
                    && exchanges.OfType<JsonObject>().Any(e => !string.IsNullOrEmpty(LoopReturnPayloads.Text(e["exchange_order_id"])));
                return refunded || exchanged || payloads.GiftCards.Count > 0 || payloads.RestockRequested ? ReturnFate.Processed : ReturnFate.ClosedWithoutProcessing;
            default:
                return ReturnFate.Open;
        }
    }

    private static ReturnFigures Figures(JsonObject r, List<JsonObject> giftCards, decimal shippingFee)
    {
        decimal net = 0m, tax = 0m;
        foreach (var line in (r["line_items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            net += Money(line["price"]) - Money(line["discount"]);
            tax += Money(line["tax"]);
        }

        // The gift card webhook is the record of what was issued; the return's gift_card is the figure without it.
        var giftCard = giftCards.Count > 0 ? giftCards.Sum(g => Money(g["total_credit_issued"])) : Money(r["gift_card"]);
        var bonus = giftCards.Sum(g => Money(g["gift_card_bonus_credit"] ?? g["gift_card_bonus"]));
        var exchangeTax = Money(r["exchange_tax_total"]);
        return new ReturnFigures(net, tax, Money(r["handling_fee"]), shippingFee, Money(r["refund"]), giftCard, bonus,
            Exchange: Money(r["exchange_total"]),
            ExchangeNet: Money(r["exchange_product_total"]) - Money(r["exchange_discount_total"]),
            ExchangeTax: exchangeTax,
            Upsell: Money(r["upsell"]));
    }

    /// <summary>Loop sends money as strings ("27.50"); some payloads use numbers; absent or null is 0.</summary>
    private static decimal Money(JsonNode? node) => LoopReturnPayloads.Text(node) is { Length: > 0 } text && text != "null"
        ? decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture)
        : 0m;
}
