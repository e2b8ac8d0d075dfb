using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Refunds;

/// <summary>
/// Settles the receivable of every processed return that has a credit note (<see cref="ReturnSettlement"/>), after the
/// refunds and exchanges of the same pass, so whichever document is posted last (credit note, refund payment, store
/// credit, exchange invoice; <c>postings.posted</c> in Scheduled mode, <c>exchange.created</c>, or any later event)
/// triggers it. It is finance's work (its order is in the second finance range): a finance stop earlier in the pass
/// skips it, an exchange problem does not.
/// </summary>
public sealed class SettlementStage : IReturnStage
{
    private readonly ReturnSettlement _settlement;

    public SettlementStage(ReturnSettlement settlement) => _settlement = settlement;

    public int Order => ReturnStageOrder.Settlement;

    public string Name => "settlement";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.State != ReturnStates.Closed)
        {
            return;
        }

        await _settlement.SettleAsync(context.ReturnId, context.Return, context.Ledger, cancellationToken).ConfigureAwait(false);
    }
}
