using System.Globalization;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Refunds;

/// <summary>One document a closed return owes Fulfil.</summary>
/// <param name="Amount">Positive, in <paramref name="Currency"/>. For the credit note: the magnitude of its total, V − F.</param>
/// <param name="Tax">Credit note only: Loop's tax T on the returned lines (the check on Fulfil's computed tax).</param>
/// <param name="HandlingFee">Credit note only: the fee line F.</param>
public sealed record PlannedPosting(string ReturnId, string Kind, string Reference, string Currency, decimal Amount, decimal Tax = 0m, decimal HandlingFee = 0m);

/// <summary>
/// Loop's money figures of one return, named as in docs/accounting.md: values from price, discount and tax of the lines
/// (never the line <c>refund</c>, which Loop sends either as the line's value or as 0), outcomes from the header and
/// the <c>giftcard.requested</c> event.
/// </summary>
/// <param name="ExchangeCredit">Loop's <c>exchange_credit_total</c>: the part of the return value the exchange used.</param>
public sealed record ReturnMoney(decimal Net, decimal Tax, decimal HandlingFee, decimal Refund, decimal StoreCredit, decimal Bonus, decimal Exchange, decimal Upsell, decimal ExchangeCredit)
{
    /// <summary>V = N + T: what the returned units are worth, tax included.</summary>
    public decimal Value => Net + Tax;

    /// <summary>What the credit note credits the customer: V − F.</summary>
    public decimal Credited => Value - HandlingFee;

    /// <summary>How the outcomes settle it: R + (G − B) + X − U.</summary>
    public decimal Settled => Refund + (StoreCredit - Bonus) + Exchange - Upsell;

    /// <summary>
    /// True when Loop's outcomes settle V − F: R + (G − B) + X − U. The one rule for the plan and the settlement: the
    /// settlement reconciles the credit note (V − F) against the refund payment R, the store credit G − B and the
    /// exchange invoice X less the upsell payment U, so a plan that passed here nets on the receivable.
    /// <c>exchange_credit_total</c> is X only when <c>exchange_total</c> is absent (<see cref="Of"/>).
    /// </summary>
    public bool Reconciles(decimal tolerance) => Math.Abs(Credited - Settled) <= tolerance;

    /// <param name="giftCard">The return's <c>giftcard.requested</c> event, when one arrived: G and B come from it.</param>
    public static ReturnMoney Of(LoopReturn r, LoopGiftCardEvent? giftCard)
    {
        ArgumentNullException.ThrowIfNull(r);
        var net = r.LineItems.Sum(l => l.Price - l.Discount);
        var tax = r.LineItems.Sum(l => l.Tax);
        var storeCredit = giftCard is { TotalCreditIssued: > 0 } ? giftCard.TotalCreditIssued : r.GiftCard;
        var bonus = giftCard?.BonusCredit ?? 0m;
        // exchange_total (tax included) is X; a payload without it names the exchange only in exchange_credit_total.
        var exchange = r.ExchangeTotal > 0 ? r.ExchangeTotal : r.ExchangeCreditTotal;
        return new ReturnMoney(net, tax, r.HandlingFee, r.Refund, storeCredit, bonus, exchange, r.Upsell, r.ExchangeCreditTotal);
    }
}

/// <summary>The documents of a return, or why its figures cannot be trusted.</summary>
public sealed record RefundPlan(IReadOnlyList<PlannedPosting> Postings, string? Mismatch)
{
    /// <summary>
    /// Works out the documents of docs/accounting.md rows 1–5 and 9: one credit note for every returned unit (V − F),
    /// settled by the refund payment R, the store credit G − B (plus the bonus B from its own account) and the exchange.
    /// Loop's figures must reconcile first: V − F = R + (G − B) + X − U within <paramref name="tolerance"/>, no figure
    /// negative, one currency equal to the company's. Otherwise: <see cref="Mismatch"/>, no postings.
    /// </summary>
    /// <param name="references">The deployment's references (<see cref="LoopReferences.Default"/> when omitted).</param>
    public static RefundPlan For(LoopReturn r, decimal tolerance, string companyCurrency, StoreCreditDocument storeCredit = StoreCreditDocument.Journal, LoopGiftCardEvent? giftCard = null, LoopReferences? references = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        var refs = references ?? LoopReferences.Default;
        var id = r.Id ?? string.Empty;
        var company = companyCurrency.Trim().ToUpperInvariant();
        var currency = string.IsNullOrWhiteSpace(r.Currency) ? null : r.Currency.Trim().ToUpperInvariant();
        if (currency is null)
        {
            return Fail($"Return {id} carries no currency; amounts cannot be posted.");
        }

        if (!string.Equals(currency, company, StringComparison.Ordinal))
        {
            return Fail($"Return {id} is in {currency} but Fulfil books in {company}; LoopFulfil does not convert. Post it manually at the rate finance chooses.");
        }

        if (giftCard?.Currency is { Length: > 0 } cardCurrency && !string.Equals(cardCurrency.Trim(), company, StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"Return {id}: the gift card was issued in {cardCurrency.Trim().ToUpperInvariant()} but Fulfil books in {company}; LoopFulfil does not convert.");
        }

        var m = ReturnMoney.Of(r, giftCard);
        (string Name, decimal Value)[] figures =
        [
            ("price − discount", m.Net), ("tax", m.Tax), ("refund", m.Refund), ("gift card", m.StoreCredit), ("gift card bonus", m.Bonus),
            ("exchange", m.Exchange), ("handling_fee", m.HandlingFee), ("upsell", m.Upsell),
        ];
        if (figures.FirstOrDefault(f => f.Value < 0) is { Name: not null } negative)
        {
            return Fail($"Return {id}: {negative.Name} is negative ({Text(negative.Value)} {currency}).");
        }

        if (m.Bonus > m.StoreCredit)
        {
            return Fail($"Return {id}: the gift card bonus {Text(m.Bonus)} exceeds the credit issued {Text(m.StoreCredit)} {currency}.");
        }

        if (!m.Reconciles(tolerance))
        {
            return Fail($"Return {id}: the returned lines are worth {Text(m.Value)} {currency} (net {Text(m.Net)} + tax {Text(m.Tax)}) less handling fee {Text(m.HandlingFee)} = {Text(m.Credited)}, but refund {Text(m.Refund)} + store credit {Text(m.StoreCredit - m.Bonus)} + exchange {Text(m.Exchange)} − upsell {Text(m.Upsell)} = {Text(m.Settled)}. Nothing was posted.");
        }

        var postings = new List<PlannedPosting>(5);
        if (m.Credited > 0)
        {
            postings.Add(new PlannedPosting(id, LoopReferences.CreditNote, refs.Of(id, LoopReferences.CreditNote), currency, m.Credited, m.Tax, m.HandlingFee));
        }

        Add(LoopReferences.RefundPayment, m.Refund);
        if (storeCredit == StoreCreditDocument.GiftCard)
        {
            // The customer's Fulfil gift card carries the whole credit issued. Fulfil's gift-card module books only cards
            // it sold, so the books are the journals below in either mode; the card goes first so that a return found
            // with store credit but no card was planned as a journal before the setting changed.
            Add(LoopReferences.GiftCard, m.StoreCredit);
        }

        // Rows 4 and 5: G − B settles the credit note's receivable against the liability, B from the bonus account.
        Add(LoopReferences.StoreCredit, m.StoreCredit - m.Bonus);
        Add(LoopReferences.GiftCardBonus, m.Bonus);
        // Upsell is not a posting here: the exchange settlement books it as a payment on the exchange invoice.
        return new RefundPlan(postings, null);

        void Add(string kind, decimal amount)
        {
            if (amount > 0)
            {
                postings.Add(new PlannedPosting(id, kind, refs.Of(id, kind), currency, amount));
            }
        }

        static RefundPlan Fail(string why) => new([], why);
    }

    internal static string Text(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);
}
