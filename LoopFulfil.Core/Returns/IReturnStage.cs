namespace LoopFulfil.Core.Returns;

/// <summary>
/// One step of bringing Fulfil in line with a Loop return. <see cref="ReturnEventHandler"/> runs every registered
/// stage (<c>IEnumerable&lt;IReturnStage&gt;</c> from DI) in ascending <see cref="Order"/> for each message about the
/// return. A stage that stops (<see cref="ReturnContext.Stop"/> or <see cref="ReturnContext.RaiseAsync"/>) stops the
/// rest of its <see cref="Family"/> only; the other families still run (<see cref="ReturnStageFamilies.Blocks"/>).
/// </summary>
/// <remarks>
/// Stages are level-triggered: each looks at the newest snapshot (<see cref="ReturnContext.Return"/>) and the ledger
/// (<see cref="ReturnContext.Ledger"/>) and performs only what is missing, through
/// <see cref="ReturnLedger.EnsureStepAsync(string, string, Func{CancellationToken, Task{string?}}, Func{CancellationToken, Task{string}}, CancellationToken)"/>
/// so a redelivery or a replay never posts twice. A stage decides for itself whether the return's state concerns it.
/// Error contract: let <see cref="Errors.TransientIntegrationException"/>, <see cref="HttpRequestException"/> and
/// timeouts escape (the message is redelivered); a <see cref="Errors.PermanentIntegrationException"/> that escapes
/// becomes an exception record (a <see cref="ReturnStageException"/> carries its category) for the stage's family, and
/// the message is completed once the other families ran.
/// </remarks>
public interface IReturnStage
{
    /// <summary>Position in the pipeline; see <see cref="ReturnStageOrder"/> for the reserved values.</summary>
    int Order { get; }

    /// <summary>Short stable name for logs and exception sources (e.g. <c>authorisation</c>).</summary>
    string Name { get; }

    /// <summary>Whose work the stage does; by default taken from <see cref="Order"/>.</summary>
    ReturnStageFamily Family => ReturnStageFamilies.ForOrder(Order);

    /// <summary>Performs whatever this stage still owes Fulfil (or Loop) for the snapshot in <paramref name="context"/>.</summary>
    Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Reserved <see cref="IReturnStage.Order"/> values; leave gaps so stages can be inserted between them. The order is
/// the run order and, by range, the family (<see cref="ReturnStageFamilies.ForOrder"/>): 100s authorisation, 200s–300s
/// warehouse, 400s finance (postings), 500s exchanges, 600s–800s finance again (the settlement, which nets what the
/// postings and the exchange of the same pass left on the receivable), 900s write-back.
/// </summary>
public static class ReturnStageOrder
{
    /// <summary>SKU validation, original sale lookup, return order into quarantine.</summary>
    public const int Authorisation = 100;

    /// <summary>Cancel the return order when the Loop return is cancelled or expired.</summary>
    public const int Cancellation = 150;

    /// <summary>Goods received into quarantine.</summary>
    public const int Receipt = 200;

    /// <summary>Inspection grading and restock from quarantine to sellable or damaged.</summary>
    public const int InspectionRestock = 300;

    /// <summary>Credit notes and store-credit journals.</summary>
    public const int Refunds = 400;

    /// <summary>Exchange sales orders.</summary>
    public const int Exchanges = 500;

    /// <summary>Settlement of the return's receivable (family finance): after the refunds and the exchange of the same pass.</summary>
    public const int Settlement = 600;

    /// <summary>Write results back to Loop (process, notes).</summary>
    public const int WriteBack = 900;
}

/// <summary>
/// Ledger step names (<c>step:{name}</c> rows of the <c>returns</c> table). Stable: changing one re-runs the step
/// for every return already handled (the remote lookup still prevents duplicates, but it costs calls).
/// </summary>
public static class ReturnSteps
{
    /// <summary>The original sale was found; document id = Fulfil <c>sale.sale</c> id.</summary>
    public const string OriginalSale = "original-sale";

    /// <summary>The return order exists; document id = Fulfil return order (<c>sale.sale</c>) id.</summary>
    public const string ReturnOrder = "return-order";

    /// <summary>The return order was cancelled; document id = the return order id.</summary>
    public const string ReturnOrderCancel = "return-order-cancel";

    /// <summary>
    /// The closed return is known to be processed (Loop executed its outcomes); document id = the evidence. Once
    /// recorded it is not asked again (<see cref="ProcessingGate"/>).
    /// </summary>
    public const string LoopProcessed = "loop-processed";

    /// <summary>
    /// Loop reported <c>return.processing.failed</c>; document id = the LoopProcessingFailed record. While it stands,
    /// an earlier Process call is not evidence that the return was processed; a replay of the record removes it.
    /// </summary>
    public const string LoopProcessingFailed = "loop-processing-failed";
}
