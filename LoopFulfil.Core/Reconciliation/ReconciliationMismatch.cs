using LoopFulfil.Core.Exceptions;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>What reconciliation found wrong. Names are stable: they are report columns, metric tags and log properties.</summary>
public enum ReconciliationMismatchKind
{
    /// <summary>A Loop return that needs a Fulfil return order has none (a lost webhook, or a failure never retried).</summary>
    MissingReturnOrder,

    /// <summary>Received goods are still in quarantine after <see cref="ReconciliationOptions.RestockSla"/>.</summary>
    RestockDelayed,

    /// <summary>The refund credit note (<c>LOOP-{id}-CN</c>) is missing, or its total differs from Loop's cash refund.</summary>
    CreditNoteMismatch,

    /// <summary>The store-credit journal (<c>LOOP-{id}-SC</c>) is missing, or differs from Loop's store credit.</summary>
    JournalMismatch,

    /// <summary>A confirmed (closed) exchange has no Fulfil sales order.</summary>
    MissingExchangeOrder,

    /// <summary>One reference (or one return's return order) exists more than once in Fulfil.</summary>
    DuplicateDocument,

    /// <summary>A Fulfil document carries a Loop reference (<c>LOOP-…</c>) for a return Loop does not know.</summary>
    OrphanDocument,

    /// <summary>The store-credit gift card (<c>LOOP-{id}-GC</c>, <c>Refunds:StoreCreditDocument=GiftCard</c>) is missing, or differs from Loop's store credit.</summary>
    GiftCardMismatch,

    /// <summary>
    /// Loop closed the return with no sign its outcomes ran and finance has not yet confirmed it (the
    /// ClosedWithoutProcessing record is open): nothing is owed until it does (docs/accounting.md row 12). Owner finance.
    /// </summary>
    ClosedWithoutProcessing,

    /// <summary>
    /// A posting held back by an AmountMismatch record (<see cref="ReconciliationMismatch.ExceptionId"/>): not missing,
    /// waiting for finance to resolve or replay that record. Not healed, not raised again.
    /// </summary>
    PostingBlocked,
}

/// <summary>One difference between Loop, Fulfil and the ledger.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="ReturnId">The Loop return id (for an orphan: the id its reference names).</param>
/// <param name="Owner">The team that acts on it.</param>
/// <param name="Reference">The Fulfil reference concerned (e.g. <c>LOOP-123-CN</c>), when there is one.</param>
/// <param name="Expected">What should be there (an amount as <c>0.00</c>, or a document).</param>
/// <param name="Actual">What is there (an amount, <c>missing</c>, a count).</param>
/// <param name="Currency">ISO currency of money mismatches, else null.</param>
/// <param name="Detail">One sentence for the owner (ids and amounts only).</param>
public sealed record ReconciliationMismatch(
    ReconciliationMismatchKind Kind,
    string ReturnId,
    string Owner,
    string? Reference,
    string Expected,
    string Actual,
    string? Currency,
    string Detail)
{
    /// <summary>True when the run re-enqueued the return (or its exchange) to repair this.</summary>
    public bool Healed { get; init; }

    /// <summary>The exception record raised for it, when one was.</summary>
    public string? ExceptionId { get; init; }
}

/// <summary>How mismatch kinds relate to exception categories (and so to owners and alerts).</summary>
public static class ReconciliationMismatchKinds
{
    /// <summary>The exception category a kind is reported under, or null for kinds without one.</summary>
    public static ExceptionCategory? CategoryOf(ReconciliationMismatchKind kind) => kind switch
    {
        ReconciliationMismatchKind.RestockDelayed => ExceptionCategory.RestockDelayed,
        ReconciliationMismatchKind.CreditNoteMismatch => ExceptionCategory.AmountMismatch,
        ReconciliationMismatchKind.JournalMismatch => ExceptionCategory.AmountMismatch,
        ReconciliationMismatchKind.GiftCardMismatch => ExceptionCategory.AmountMismatch,
        ReconciliationMismatchKind.MissingExchangeOrder => ExceptionCategory.ExchangeOrderFailed,
        _ => null,
    };

    /// <summary>Kinds that report an existing record (never raised again) and are owned like its category.</summary>
    private static ExceptionCategory? OwnedLike(ReconciliationMismatchKind kind) => kind switch
    {
        ReconciliationMismatchKind.ClosedWithoutProcessing => ExceptionCategory.ClosedWithoutProcessing,
        ReconciliationMismatchKind.PostingBlocked => ExceptionCategory.AmountMismatch,
        _ => null,
    };

    /// <summary>
    /// The owner: that of the exception category (<see cref="ExceptionOptions.OwnerOf"/>) when the kind has one, else
    /// <see cref="ReconciliationOptions.Owners"/>, else the exceptions' default owner.
    /// </summary>
    public static string OwnerOf(ReconciliationMismatchKind kind, ExceptionOptions exceptions, ReconciliationOptions options)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        ArgumentNullException.ThrowIfNull(options);
        if ((OwnedLike(kind) ?? CategoryOf(kind)) is { } category)
        {
            return exceptions.OwnerOf(category);
        }

        return options.Owners.TryGetValue(kind, out var owner) && !string.IsNullOrWhiteSpace(owner) ? owner : exceptions.DefaultOwner;
    }

    /// <summary>Kinds a re-run of the returns pipeline (or of the exchange) can repair without a person.</summary>
    public static bool IsHealable(ReconciliationMismatch mismatch)
    {
        ArgumentNullException.ThrowIfNull(mismatch);
        return mismatch.Actual == ReconciliationValues.Missing && mismatch.Kind is ReconciliationMismatchKind.MissingReturnOrder
            or ReconciliationMismatchKind.CreditNoteMismatch or ReconciliationMismatchKind.JournalMismatch or ReconciliationMismatchKind.GiftCardMismatch or ReconciliationMismatchKind.MissingExchangeOrder;
    }
}

/// <summary>Words the report uses for values that are not amounts.</summary>
public static class ReconciliationValues
{
    public const string Missing = "missing";

    /// <summary>A posting held back by an exception record.</summary>
    public const string Blocked = "blocked";
}
