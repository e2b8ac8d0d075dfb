using LoopFulfil.Core.Exceptions;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Whose work a stage does. A permanent problem stops the rest of its own family for the message and nothing else:
/// a finance mismatch does not hold back the exchange or the warehouse, and a warehouse problem does not hold back
/// the money (docs/accounting.md, "Stages do not block each other").
/// </summary>
public enum ReturnStageFamily
{
    /// <summary>Return order and its cancellation: everything else acts on the return order, so a stop here stops all.</summary>
    Authorisation,

    /// <summary>Receipt into quarantine, inspection and restock.</summary>
    Warehouse,

    /// <summary>Refunds and store credit.</summary>
    Finance,

    /// <summary>Exchange orders.</summary>
    Exchanges,

    /// <summary>Results written back to Loop: reports only what ran, so it waits for finance and exchanges.</summary>
    WriteBack,
}

/// <summary>The rules between families, in one place.</summary>
public static class ReturnStageFamilies
{
    /// <summary>The family of a stage at <paramref name="order"/> (the ranges of <see cref="ReturnStageOrder"/>).</summary>
    public static ReturnStageFamily ForOrder(int order) => order switch
    {
        < ReturnStageOrder.Receipt => ReturnStageFamily.Authorisation,
        < ReturnStageOrder.Refunds => ReturnStageFamily.Warehouse,
        < ReturnStageOrder.Exchanges => ReturnStageFamily.Finance,
        < ReturnStageOrder.Settlement => ReturnStageFamily.Exchanges,
        < ReturnStageOrder.WriteBack => ReturnStageFamily.Finance,
        _ => ReturnStageFamily.WriteBack,
    };

    /// <summary>True when a stop of <paramref name="stopped"/> in this pass keeps <paramref name="family"/> from running.</summary>
    public static bool Blocks(ReturnStageFamily stopped, ReturnStageFamily family) =>
        stopped == family
        || stopped == ReturnStageFamily.Authorisation
        || (family == ReturnStageFamily.WriteBack && stopped is ReturnStageFamily.Finance or ReturnStageFamily.Exchanges);

    /// <summary>
    /// Families whose work is an outcome Loop executed (money, exchange, the report of both): for a closed return
    /// they run only once it is known to be processed, never for a return closed without processing (row 12).
    /// </summary>
    public static bool ActsOnExecutedOutcomes(ReturnStageFamily family) =>
        family is ReturnStageFamily.Finance or ReturnStageFamily.Exchanges or ReturnStageFamily.WriteBack;

    /// <summary>
    /// A generic Fulfil refusal (<see cref="ExceptionCategory.FulfilRejected"/>) goes to the team of the family it
    /// stopped: the owner configured for that family's own category, so owners stay configured in one place.
    /// </summary>
    public static ExceptionCategory OwnerCategory(ReturnStageFamily family) => family switch
    {
        ReturnStageFamily.Finance => ExceptionCategory.AmountMismatch,
        ReturnStageFamily.Exchanges => ExceptionCategory.ExchangeOrderFailed,
        ReturnStageFamily.Warehouse => ExceptionCategory.RestockDelayed,
        _ => ExceptionCategory.FulfilRejected,
    };
}
