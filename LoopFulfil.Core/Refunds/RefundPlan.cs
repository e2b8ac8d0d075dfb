using System.Globalization;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Refunds;

/// <summary>Kinds of financial document a return can produce, and their reference suffixes.</summary>
public static class PostingKinds
{
    /// <summary>Credit note for the amount refunded to the original payment (<c>LOOP-{id}-CN</c>).</summary>
    public const string CreditNote = "CN";

    /// <summary>Store-credit liability journal (<c>LOOP-{id}-SC</c>).</summary>
    public const string StoreCredit = "SC";

    /// <summary>Store credit issued as a Fulfil gift card (<c>LOOP-{id}-GC</c>), when <see cref="StoreCreditDocument.GiftCard"/>.</summary>
    public const string GiftCard = "GC";

    /// <summary>Handling fee kept from the customer (<c>LOOP-{id}-FEE</c>).</summary>
    public const string HandlingFee = "FEE";

    /// <summary>Upsell the customer paid on an exchange (<c>LOOP-{id}-UPSELL</c>), booked by the exchange settlement as a payment on the exchange invoice.</summary>
    public const string Upsell = "UPSELL";

    public static string Reference(string returnId, string kind) => $"LOOP-{returnId}-{kind}";
}

/// <summary>One document a closed return owes Fulfil.</summary>
/// <param name="Amount">Positive, in <paramref name="Currency"/>.</param>
public sealed record PlannedPosting(string ReturnId, string Kind, string Reference, string Currency, decimal Amount);

/// <summary>The documents of a return, or why its figures cannot be trusted.</summary>
public sealed record RefundPlan(IReadOnlyList<PlannedPosting> Postings, string? Mismatch)
{
    /// <summary>
    /// Works out the documents from the return's header split. Loop's figures must reconcile before anything is posted:
    /// Σ line refunds = refund + gift card + exchange credit + handling fee (within <paramref name="tolerance"/>), no
    /// figure negative, a currency present and equal to the company's. Otherwise: <see cref="Mismatch"/>, no postings.
    /// </summary>
    public static RefundPlan For(LoopReturn r, decimal tolerance, string companyCurrency, StoreCreditDocument storeCredit = StoreCreditDocument.Journal)
    {
        ArgumentNullException.ThrowIfNull(r);
        string id = r.Id ?? string.Empty;
        string? currency = string.IsNullOrWhiteSpace(r.Currency) ? null : r.Currency.Trim().ToUpperInvariant();
        if (currency is null)
        {
            return Fail($"Return {id} carries no currency; amounts cannot be posted.");
        }

        if (!string.Equals(currency, companyCurrency.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"Return {id} is in {currency} but Fulfil books in {companyCurrency.Trim().ToUpperInvariant()}; LoopFulfil does not convert. Post it manually at the rate finance chooses.");
        }

        decimal lines = r.LineItems.Sum(l => l.Refund);
        decimal split = r.Refund + r.GiftCard + r.ExchangeCreditTotal + r.HandlingFee;
        (string Name, decimal Value)[] figures = [("refund", r.Refund), ("gift_card", r.GiftCard), ("exchange_credit_total", r.ExchangeCreditTotal), ("handling_fee", r.HandlingFee), ("upsell", r.Upsell)];
        if (figures.FirstOrDefault(f => f.Value < 0) is { Name: not null } negative)
        {
            return Fail($"Return {id}: {negative.Name} is negative ({Text(negative.Value)} {currency}).");
        }

        if (Math.Abs(lines - split) > tolerance)
        {
            return Fail($"Return {id}: line refunds sum to {Text(lines)} {currency} but refund {Text(r.Refund)} + gift card {Text(r.GiftCard)} + exchange credit {Text(r.ExchangeCreditTotal)} + handling fee {Text(r.HandlingFee)} = {Text(split)}. Nothing was posted.");
        }

        var postings = new List<PlannedPosting>(4);
        // The credit note also covers the units paid for with exchange credit: the exchange settlement reconciles it
        // against the exchange invoice (accounting.md rows 6-8). Upsell is not a posting here: the settlement books it
        // as a payment on the exchange invoice.
        Add(PostingKinds.CreditNote, r.Refund + r.ExchangeCreditTotal);
        Add(storeCredit == StoreCreditDocument.GiftCard ? PostingKinds.GiftCard : PostingKinds.StoreCredit, r.GiftCard);
        Add(PostingKinds.HandlingFee, r.HandlingFee);
        return new RefundPlan(postings, null);

        void Add(string kind, decimal amount)
        {
            if (amount > 0)
            {
                postings.Add(new PlannedPosting(id, kind, PostingKinds.Reference(id, kind), currency, amount));
            }
        }

        static RefundPlan Fail(string why) => new([], why);
    }

    internal static string Text(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);
}
