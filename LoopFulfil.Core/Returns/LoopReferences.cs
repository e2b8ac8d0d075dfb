using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// The one place that builds and parses the references LoopFulfil writes on Fulfil documents:
/// <c>{prefix}{returnId}</c> for the return order and <c>{prefix}{returnId}-{suffix}</c> for every other document, the
/// prefix being <see cref="ReturnsOptions.ReturnOrderReferencePrefix"/> (default <c>LOOP-</c>). Every write looks its
/// document up by these references first, and reconciliation reads them back, so both sides must use this type.
/// The suffixes of the money documents are also the kinds of posting (<c>PostingRecord.Kind</c>) the refunds stage
/// plans and records (docs/accounting.md): one name for the document and its reference.
/// </summary>
public sealed class LoopReferences
{
    public const string DefaultPrefix = "LOOP-";

    /// <summary>
    /// The one credit note of the return (<c>LOOP-{id}-CN</c>): every returned unit at p − d with its sale line's taxes,
    /// plus the handling-fee line; total −(V − F). Made by Fulfil from the return order, or by LoopFulfil.
    /// </summary>
    public const string CreditNote = "CN";

    /// <summary>Refund to the original payment (<c>LOOP-{id}-RF</c>, journal): Dr receivable R, Cr returns clearing R.</summary>
    public const string RefundPayment = "RF";

    /// <summary>Store credit issued against the receivable (<c>LOOP-{id}-SC</c>, journal): Dr receivable G − B, Cr gift-card liability G − B.</summary>
    public const string StoreCredit = "SC";

    /// <summary>
    /// Store credit issued as a Fulfil gift card (<c>LOOP-{id}-GC</c>, the whole credit G), when
    /// <c>Refunds:StoreCreditDocument</c> is GiftCard: the customer's card; the store-credit and bonus journals book it.
    /// </summary>
    public const string GiftCard = "GC";

    /// <summary>Gift-card bonus (<c>LOOP-{id}-BONUS</c>, journal): Dr store-credit bonus B, Cr gift-card liability B.</summary>
    public const string GiftCardBonus = "BONUS";

    /// <summary>
    /// Handling fee as its own journal (<c>LOOP-{id}-FEE</c>: Dr receivable F, Cr handling-fee income F), only when the ERP
    /// posted its credit note before the fee line could be added; otherwise the fee is a line of the credit note.
    /// </summary>
    public const string HandlingFee = "FEE";

    /// <summary>Upsell the customer paid on an exchange (<c>LOOP-{id}-UPSELL</c>), booked by the exchange settlement as a payment on the exchange invoice.</summary>
    public const string Upsell = "UPSELL";

    /// <summary>Exchange order on the original order's key; separate exchange orders append their name (<c>EXC-…</c>).</summary>
    public const string Exchange = "EXC";

    /// <summary>Internal shipment out of quarantine: <c>RESTOCK-{location code}</c>.</summary>
    public const string Restock = "RESTOCK";

    /// <summary>Reconciliation of the return's receivable lines (exchange settlement).</summary>
    public const string Settlement = "SETTLE";

    // Longest first where one starts another is not needed: each is matched whole or followed by '-'.
    private static readonly string[] Suffixes = [CreditNote, RefundPayment, StoreCredit, GiftCard, GiftCardBonus, HandlingFee, Upsell, Exchange, Restock, Settlement];

    public LoopReferences(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Prefix = prefix;
    }

    /// <summary>The references of the default settings (tests, tools reading a default deployment).</summary>
    public static LoopReferences Default { get; } = new(DefaultPrefix);

    /// <summary>The prefix every Loop reference starts with.</summary>
    public string Prefix { get; }

    public static LoopReferences From(ReturnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LoopReferences(options.ReturnOrderReferencePrefix);
    }

    /// <summary>For DI: built once from the bound <see cref="ReturnsOptions"/>.</summary>
    public static LoopReferences Create(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return From(services.GetRequiredService<IOptions<ReturnsOptions>>().Value);
    }

    /// <summary>The return order (RMA): <c>{prefix}{returnId}</c>.</summary>
    public string ReturnOrder(string returnId) => Prefix + returnId;

    /// <summary>A document of the return: <c>{prefix}{returnId}-{suffix}</c>.</summary>
    public string Of(string returnId, string suffix) => $"{Prefix}{returnId}-{suffix}";

    /// <summary>The restock shipment to one location: <c>{prefix}{returnId}-RESTOCK-{code}</c>.</summary>
    public string RestockTo(string returnId, string locationCode) => Of(returnId, $"{Restock}-{locationCode}");

    /// <summary>What every document reference of the return starts with (for a prefix search).</summary>
    public string DocumentsOf(string returnId) => $"{Prefix}{returnId}-";

    /// <param name="Suffix">Null for the return order's own reference.</param>
    public sealed record Parsed(string ReturnId, string? Suffix);

    /// <summary>
    /// Splits a reference into return id and suffix at the first <c>-</c> followed by a known suffix (so a return id
    /// holding a dash still parses); null when it is not a Loop reference.
    /// </summary>
    public Parsed? Parse(string? reference)
    {
        if (reference is null || !reference.StartsWith(Prefix, StringComparison.Ordinal) || reference.Length == Prefix.Length)
        {
            return null;
        }

        var rest = reference[Prefix.Length..];
        for (var i = rest.IndexOf('-', StringComparison.Ordinal); i > 0; i = rest.IndexOf('-', i + 1))
        {
            var tail = rest[(i + 1)..];
            foreach (var suffix in Suffixes)
            {
                if (tail.StartsWith(suffix, StringComparison.Ordinal) && (tail.Length == suffix.Length || tail[suffix.Length] == '-'))
                {
                    return new Parsed(rest[..i], tail);
                }
            }
        }

        return new Parsed(rest, null);
    }
}
