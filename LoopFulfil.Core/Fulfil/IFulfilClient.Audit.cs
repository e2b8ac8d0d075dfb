namespace LoopFulfil.Core.Fulfil;

/// <summary>Whether the API key can read one model the integration uses.</summary>
/// <param name="Model">The Fulfil model.</param>
/// <param name="Problem">Null when a read worked; otherwise why not (no access, unknown model, unreachable).</param>
public sealed record FulfilModelAccess(string Model, string? Problem);

public partial interface IFulfilClient
{
    /// <summary>
    /// A dry read (one record at most) of every model the integration reads or writes, so a key without access to one
    /// of them is found before go-live rather than by the first return that needs it. Reads only.
    /// </summary>
    /// <param name="includeGiftCards">
    /// Whether the gift-card model (<c>Fulfil:GiftCardModel</c>) is read too: only with store credit as gift cards
    /// (Fulfil's gift-card module need not be installed otherwise, and Tryton has none).
    /// </param>
    Task<IReadOnlyList<FulfilModelAccess>> ProbeModelAccessAsync(bool includeGiftCards, CancellationToken cancellationToken = default);

    /// <summary>Name of the <c>account.journal</c> with this id, or null when there is none.</summary>
    Task<string?> GetJournalNameAsync(int journalId, CancellationToken cancellationToken = default);
}
