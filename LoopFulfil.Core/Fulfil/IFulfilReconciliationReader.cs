namespace LoopFulfil.Core.Fulfil;

/// <summary>Kinds of Fulfil document LoopFulfil creates for a Loop return.</summary>
public enum LoopDocumentType
{
    /// <summary><c>sale.sale</c> with channel_identifier = the return id (reference <c>LOOP-{id}</c>).</summary>
    ReturnOrder,

    /// <summary><c>sale.sale</c> with reference <c>LOOP-{id}-EXC…</c>.</summary>
    ExchangeOrder,

    /// <summary><c>account.invoice</c> (customer credit note) <c>LOOP-{id}-CN</c>.</summary>
    CreditNote,

    /// <summary><c>account.move</c> <c>LOOP-{id}-RF</c>, <c>-SC</c>, <c>-BONUS</c>, <c>-UPSELL</c> (<c>-FEE</c> before the fee became a credit-note line).</summary>
    JournalEntry,

    /// <summary><c>stock.shipment.internal</c> <c>LOOP-{id}-RESTOCK-{location}</c>.</summary>
    InternalShipment,

    /// <summary>Gift card (<c>Fulfil:GiftCardModel</c>) <c>LOOP-{id}-GC</c>; read only when <c>Refunds:StoreCreditDocument</c> is GiftCard.</summary>
    GiftCard,
}

/// <summary>A Fulfil document that belongs to a Loop return by its reference or channel identifier.</summary>
/// <param name="Amount">Sales/credit note: total_amount (negative on credit notes and return orders); journal: total debit; gift card: amount; shipments: null.</param>
/// <param name="CreatedAt">Fulfil's create_date, when read.</param>
public sealed record FulfilLoopDocument(
    LoopDocumentType Type,
    int Id,
    string ReturnId,
    string? Reference,
    string? Number,
    string State,
    decimal? Amount,
    DateTimeOffset? CreatedAt)
{
    /// <summary>Cancelled documents do not count: a cancelled duplicate is already repaired.</summary>
    public bool IsLive => State is not ("cancelled" or "cancel" or "canceled");
}

/// <summary>
/// The reconciliation role of the Fulfil layer: reads the Loop documents in Fulfil that reconciliation compares (all
/// searches; nothing is written). Reconciliation sees documents by kind, never Tryton models.
/// </summary>
public interface IFulfilReconciliationReader
{
    /// <summary>Every document (cancelled ones included) of the given returns, batched per model.</summary>
    Task<IReadOnlyList<FulfilLoopDocument>> GetDocumentsOfReturnsAsync(IReadOnlyCollection<string> returnIds, CancellationToken cancellationToken);

    /// <summary>Every document with a <c>LOOP-</c> reference created in [<paramref name="createdFrom"/>, <paramref name="createdBefore"/>).</summary>
    Task<IReadOnlyList<FulfilLoopDocument>> GetLoopDocumentsCreatedAsync(DateTimeOffset createdFrom, DateTimeOffset createdBefore, CancellationToken cancellationToken);

    /// <summary>
    /// The customer invoice with this id as a credit note of <paramref name="returnId"/> (the id the ledger stored when
    /// the credit note was adopted: an ERP-made credit note need not carry the Loop reference). Null when absent.
    /// </summary>
    Task<FulfilLoopDocument?> GetCreditNoteAsync(int invoiceId, string returnId, CancellationToken cancellationToken);
}
