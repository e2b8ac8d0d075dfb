using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// Loop Returns API: return data, return actions, Commerce Data upserts and webhook subscriptions.
/// Failures surface as <see cref="LoopAuthenticationException"/>, <see cref="LoopNotFoundException"/>,
/// <see cref="LoopRequestRejectedException"/>/<see cref="LoopActionRejectedException"/> (permanent) or
/// <see cref="LoopUnavailableException"/> (transient, with Retry-After when Loop sent one).
/// </summary>
public interface ILoopClient
{
    /// <summary><c>GET warehouse/return/details?return_id=</c>.</summary>
    Task<LoopReturn> GetReturnAsync(string returnId, CancellationToken cancellationToken);

    /// <summary>
    /// <c>GET warehouse/return/list</c>, paginated: splits ranges longer than 120 days into windows, follows each
    /// <c>nextPageUrl</c> verbatim, and yields each return once even if it sits on a window boundary.
    /// </summary>
    IAsyncEnumerable<LoopReturn> ListReturnsAsync(LoopReturnListQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// <c>POST warehouse/return/{id}/process</c>. Success only means "queued": confirmation arrives as a
    /// <c>return.closed</c> or <c>return.processing.failed</c> webhook. <paramref name="additionalDetails"/> are
    /// copied by Loop to new platform orders and the return timeline.
    /// </summary>
    Task ProcessReturnAsync(string returnId, IReadOnlyDictionary<string, string>? additionalDetails, CancellationToken cancellationToken);

    /// <summary><c>POST warehouse/return/{id}/flag</c>: the return goes to review and is not processed automatically.</summary>
    Task FlagReturnAsync(string returnId, CancellationToken cancellationToken);

    /// <summary><c>POST warehouse/return/{id}/cancel</c>: items become returnable again. Expired and flagged returns cannot be cancelled.</summary>
    Task CancelReturnAsync(string returnId, CancellationToken cancellationToken);

    /// <summary><c>POST warehouse/return/{id}/close</c>: closes without fulfilling outcomes.</summary>
    Task CloseReturnAsync(string returnId, CancellationToken cancellationToken);

    /// <summary><c>POST warehouse/return/{id}/note</c>; <paramref name="content"/> must be 1–254 characters.</summary>
    Task AddReturnNoteAsync(string returnId, string content, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="AddReturnNoteAsync"/>, for a note whose text may differ between attempts (it names documents
    /// that exist by then) while <paramref name="key"/>, its start, never does: skipped when a note starting with
    /// <paramref name="key"/> is already there, so a repeat after an unclear outcome never writes a second one.
    /// </summary>
    Task AddReturnNoteOnceAsync(string returnId, string key, string content, CancellationToken cancellationToken);

    /// <summary><c>GET warehouse/return/{id}/notes</c>; empty when the return has none (Loop answers 422 then).</summary>
    Task<IReadOnlyList<LoopReturnNote>> GetReturnNotesAsync(string returnId, CancellationToken cancellationToken);

    /// <summary><c>POST warehouse/return/{id}/remove?line_item_id=…</c>: removes Loop line items and processes the return.</summary>
    Task RemoveLineItemsAsync(string returnId, IReadOnlyCollection<string> lineItemIds, CancellationToken cancellationToken);

    /// <summary><c>PUT products</c>, upsert by external id.</summary>
    Task<LoopProduct> UpsertProductAsync(LoopProductUpsert product, CancellationToken cancellationToken);

    /// <summary><c>PUT products/external/{productExternalId}/product-variants</c>, upsert by variant external id.</summary>
    Task<LoopVariant> UpsertVariantAsync(string productExternalId, LoopVariantUpsert variant, CancellationToken cancellationToken);

    /// <summary><c>PUT orders</c>, upsert by external id.</summary>
    Task<LoopOrder> UpsertOrderAsync(LoopOrderUpsert order, CancellationToken cancellationToken);

    /// <summary><c>PUT customers</c>, upsert by external id.</summary>
    Task<LoopCustomer> UpsertCustomerAsync(LoopCustomerUpsert customer, CancellationToken cancellationToken);

    /// <summary><c>PUT locations</c>, upsert by external id.</summary>
    Task<LoopLocation> UpsertLocationAsync(LoopLocationUpsert location, CancellationToken cancellationToken);

    /// <summary><c>POST inventories/{variantId}/{locationId}</c>: sets the absolute available count (Loop ids).</summary>
    Task<LoopInventory> SetInventoryAsync(string variantId, string locationId, long availableCount, CancellationToken cancellationToken);

    /// <summary><c>GET webhooks</c>: every subscription, including ones created in Loop Admin.</summary>
    Task<IReadOnlyList<LoopWebhookSubscription>> ListWebhooksAsync(CancellationToken cancellationToken);

    /// <summary><c>POST webhooks</c> with <c>status: active</c> set explicitly (Loop's default is inactive).</summary>
    Task<LoopWebhookSubscription> CreateWebhookAsync(string topic, string trigger, Uri url, CancellationToken cancellationToken);
}

/// <summary>What to list from the Detailed Returns List.</summary>
public sealed record LoopReturnListQuery
{
    /// <summary>Start of the range (inclusive). Required: Loop defaults to the last 24 hours without it.</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>End of the range; now when null.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Which timestamp the range applies to.</summary>
    public LoopReturnListFilter Filter { get; init; } = LoopReturnListFilter.UpdatedAt;

    /// <summary>States to include; Loop's default (open, closed, expired) when empty. Use <c>review</c>, not "needs review".</summary>
    public IReadOnlyList<string> States { get; init; } = [];

    /// <summary>Page size (1–750); the configured default when null.</summary>
    public int? PageSize { get; init; }
}

/// <summary>The <c>filter</c> parameter of the Detailed Returns List.</summary>
public enum LoopReturnListFilter
{
    CreatedAt,
    UpdatedAt,
}
