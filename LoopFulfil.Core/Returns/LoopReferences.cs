using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// The one place that builds and parses the references LoopFulfil writes on Fulfil documents:
/// <c>{prefix}{returnId}</c> for the return order and <c>{prefix}{returnId}-{suffix}</c> for every other document, the
/// prefix being <see cref="ReturnsOptions.ReturnOrderReferencePrefix"/> (default <c>LOOP-</c>). Every write looks its
/// document up by these references first, and reconciliation reads them back, so both sides must use this type.
/// </summary>
public sealed class LoopReferences
{
    public const string DefaultPrefix = "LOOP-";

    /// <summary>The return's one credit note.</summary>
    public const string CreditNote = "CN";

    /// <summary>Refund to the original payment (journal).</summary>
    public const string RefundPayment = "RF";

    /// <summary>Store credit against the receivable (journal).</summary>
    public const string StoreCredit = "SC";

    /// <summary>Store credit as a Fulfil gift card.</summary>
    public const string GiftCard = "GC";

    /// <summary>Gift-card bonus (journal).</summary>
    public const string GiftCardBonus = "BONUS";

    /// <summary>Handling fee as its own journal, when the ERP posted its credit note before the fee line could be added.</summary>
    public const string HandlingFee = "FEE";

    /// <summary>Upsell payment on the exchange invoice (journal).</summary>
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

        string rest = reference[Prefix.Length..];
        for (int i = rest.IndexOf('-', StringComparison.Ordinal); i > 0; i = rest.IndexOf('-', i + 1))
        {
            string tail = rest[(i + 1)..];
            foreach (string suffix in Suffixes)
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
