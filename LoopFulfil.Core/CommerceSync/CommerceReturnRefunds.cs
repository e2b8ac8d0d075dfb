using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Core.CommerceSync;

/// <summary>
/// Money refunded for a Fulfil return order that Fulfil's sale lines do not say: the posted refund credit note.
/// </summary>
/// <param name="Reference">The credit note's deterministic reference (<c>LOOP-{id}-CN</c>): the Loop refund's external id.</param>
/// <param name="Amount">Refunded to the original payment (positive, company currency).</param>
/// <param name="PostedAt">When the credit note was posted (the refund's <c>created_at</c>).</param>
public sealed record CommerceReturnRefund(string Reference, decimal Amount, DateTimeOffset PostedAt);

/// <summary>
/// Where <see cref="CommerceSyncJob"/> learns the refunds of return orders, so a Loop order's <c>refunds[]</c> carry
/// what was really refunded. Implemented by the outcome stages (posted credit notes, <c>WriteBack:OrderRefunds</c>);
/// without one, refunds are valued from the return order's lines.
/// </summary>
public interface ICommerceReturnRefunds
{
    /// <summary>The refund of each return sale that has one, keyed by Fulfil return sale id.</summary>
    Task<IReadOnlyDictionary<int, CommerceReturnRefund>> GetAsync(IReadOnlyList<FulfilSaleSnapshot> returnSales, CancellationToken cancellationToken);
}

/// <summary>What <see cref="CommerceSyncJob.PushOrderAsync"/> did with one order.</summary>
public enum CommerceOrderPushOutcome
{
    /// <summary>Loop accepted the order as it is now.</summary>
    Sent,

    /// <summary>Loop already held exactly this order: no call.</summary>
    Unchanged,

    /// <summary>Loop refused it, or it cannot be pushed (a line without a product in Loop…): see the reason.</summary>
    NotSent,

    /// <summary>A transient failure; pushing again may succeed.</summary>
    Failed,

    /// <summary>Not an order Loop holds or needs (a draft, a cancelled or out-of-window order never pushed, or not found).</summary>
    Skipped,

    /// <summary><c>CommerceSync:Enabled</c> is false: orders do not reach Loop through LoopFulfil.</summary>
    Disabled,
}

/// <summary>The outcome of pushing one order, with the reason when it was not sent.</summary>
public sealed record CommerceOrderPush(CommerceOrderPushOutcome Outcome, string? Reason);
