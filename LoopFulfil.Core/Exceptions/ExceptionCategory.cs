namespace LoopFulfil.Core.Exceptions;

/// <summary>
/// What went wrong, in terms an owning team acts on. Each category has an owner (see <see cref="ExceptionOptions.Owners"/>).
/// Names are stable: they are table partition keys, queue properties and configuration keys.
/// </summary>
public enum ExceptionCategory
{
    /// <summary>A returned or exchanged SKU has no product in Fulfil.</summary>
    SkuNotFound,

    /// <summary>The SKU's product exists in Fulfil but is archived.</summary>
    SkuArchived,

    /// <summary>The Loop return's order could not be found in Fulfil.</summary>
    OrderNotFound,

    /// <summary>Fulfil refused a write with a UserError (closed period, wrong state, missing stock…).</summary>
    FulfilRejected,

    /// <summary>A signed webhook whose body cannot be read (malformed JSON, empty, no return id).</summary>
    UnparseableEvent,

    /// <summary>A signed webhook whose topic/trigger this integration does not route.</summary>
    UnknownTopic,

    /// <summary>Loop's money figures do not add up, or do not match what Fulfil posted.</summary>
    AmountMismatch,

    /// <summary>The exchange sales order could not be created in Fulfil.</summary>
    ExchangeOrderFailed,

    /// <summary>A restock/receipt is overdue (goods not received or not put away in time).</summary>
    RestockDelayed,

    /// <summary>The return moved to a state that contradicts what already happened (e.g. cancelled after goods were received).</summary>
    ReturnStateConflict,

    /// <summary>
    /// A queued message was dead-lettered (delivered the maximum number of times, or unreadable): the host gave up
    /// on it. Replay after fixing the cause.
    /// </summary>
    DeadLettered,

    /// <summary>
    /// The commerce push could not send a Fulfil record to Loop (Loop refused it, or an order line's product has no
    /// SKU): until fixed in Fulfil, customers cannot start a return for that order or be offered that variant.
    /// Resolves itself once a later run sends the record.
    /// </summary>
    CommerceRecordNotSent,

    /// <summary>
    /// A correctly signed webhook was refused with 413: its body is larger than the integration can store. The record
    /// holds its size, trigger/topic and return id when readable, never the body; bring the return across by hand.
    /// </summary>
    EventTooLarge,

    /// <summary>
    /// Loop closed the return with no sign that its outcomes ran (Close Return, not Process): nothing was posted and
    /// no exchange shipped. Resolving or replaying the record confirms the outcomes did run, and the money then posts
    /// once; Loop sending the processed signal later does the same and resolves the record. Resolving it as
    /// <see cref="ExceptionResolution.NothingToPost"/> confirms the opposite, and later events leave it resolved.
    /// </summary>
    ClosedWithoutProcessing,

    /// <summary>
    /// Loop accepted Process Return but failed in the background (<c>return.processing.failed</c>): the return stays
    /// open, its outcomes did not run. Fix the cause in Loop, then replay (Loop is asked to process again).
    /// </summary>
    LoopProcessingFailed,
}

/// <summary>Lifecycle of an exception record.</summary>
public enum ExceptionStatus
{
    /// <summary>Needs its owner's attention (also when a resolved/replayed problem happens again).</summary>
    Open,

    /// <summary>Closed by a person without replaying.</summary>
    Resolved,

    /// <summary>The original event was re-enqueued; if it fails again the record reopens.</summary>
    Replayed,
}

/// <summary>What a person said when resolving a record.</summary>
public enum ExceptionResolution
{
    /// <summary>The cause is fixed (for <see cref="ExceptionCategory.ClosedWithoutProcessing"/>: the outcomes did run, post them).</summary>
    Fixed,

    /// <summary>
    /// <see cref="ExceptionCategory.ClosedWithoutProcessing"/> only: finance confirms the return was closed without
    /// processing and nothing is to be posted. It sticks: later events of the return do not reopen the record (only
    /// Loop's processed signal changes the verdict).
    /// </summary>
    NothingToPost,
}
