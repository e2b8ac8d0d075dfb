using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>Posting rows as Scheduled mode leaves them, for tests that drive the posting job directly.</summary>
internal static class PendingPostings
{
    /// <summary>A posting that needs no other document first (the bonus journal: bonus account to gift-card liability).</summary>
    public static PostingRecord Bonus(string returnId, decimal amount, DateTimeOffset createdAt) => new()
    {
        ReturnId = returnId,
        Kind = LoopReferences.GiftCardBonus,
        Reference = LoopReferences.Default.Of(returnId, LoopReferences.GiftCardBonus),
        Currency = "USD",
        Amount = amount,
        Status = PostingStatus.Pending,
        CreatedAt = createdAt,
    };
}
