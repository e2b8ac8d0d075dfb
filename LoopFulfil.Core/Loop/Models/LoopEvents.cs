using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Loop.Models;

/// <summary><c>restock.requested</c>: sent on processing when the merchant's Restock policy is "webhooks".</summary>
public sealed class LoopRestockEvent
{
    public string? Topic { get; init; }

    public string? Trigger { get; init; }

    /// <summary>Loop return id.</summary>
    public string? Id { get; init; }

    public string? OrderId { get; init; }

    public string? ProviderOrderId { get; init; }

    public IReadOnlyList<LoopRestockItem> RestockItems { get; init; } = [];
}

/// <summary>One restock instruction.</summary>
public sealed class LoopRestockItem
{
    public string? LocationId { get; init; }

    public string? VariantId { get; init; }

    public string? InventoryItemId { get; init; }

    /// <summary>Units to add back (sent as a number or a string).</summary>
    public int AvailableAdjustment { get; init; }

    public string? InventoryManagement { get; init; }
}

/// <summary>
/// <c>giftcard.requested</c>: store credit to issue through a third-party gift card provider (or an out-of-stock
/// exchange turned into a gift card, when <see cref="Id"/> is null). The published samples name the bonus field
/// both <c>gift_card_bonus</c> and <c>gift_card_bonus_credit</c>; both are read.
/// </summary>
public sealed class LoopGiftCardEvent
{
    public string? Topic { get; init; }

    public string? Trigger { get; init; }

    public string? Id { get; init; }

    public decimal TotalCreditIssued { get; init; }

    public decimal GiftCardSubtotal { get; init; }

    public decimal GiftCardTax { get; init; }

    public decimal? GiftCardBonusCredit { get; init; }

    public decimal? GiftCardBonus { get; init; }

    /// <summary>The bonus under whichever name this payload used; 0 when neither is present.</summary>
    [JsonIgnore]
    public decimal BonusCredit => GiftCardBonusCredit ?? GiftCardBonus ?? 0m;

    public string? Currency { get; init; }

    public string? ReturnId { get; init; }

    /// <summary>Personal data: never log.</summary>
    public string? Email { get; init; }

    /// <summary>Personal data: never log.</summary>
    public string? FirstName { get; init; }

    /// <summary>Personal data: never log.</summary>
    public string? LastName { get; init; }

    public string? ExternalOrderId { get; init; }

    public string? ExternalOrderName { get; init; }

    public string? ExternalOrderNumber { get; init; }
}

/// <summary>
/// <c>label.created</c> / <c>label.updated</c>. One published shape carries the return id in <c>id</c>, another in
/// <c>return_id</c>; <see cref="LoopReturnId"/> reads whichever is present.
/// </summary>
public sealed class LoopLabelEvent
{
    public string? Topic { get; init; }

    public string? Trigger { get; init; }

    public string? ShopId { get; init; }

    public string? Id { get; init; }

    public string? ReturnId { get; init; }

    [JsonIgnore]
    public string? LoopReturnId => ReturnId ?? Id;

    public string? OrderId { get; init; }

    public string? ProviderOrderId { get; init; }

    public string? Carrier { get; init; }

    public string? TrackingNumber { get; init; }

    /// <summary><c>new</c>, <c>pending</c>, <c>in_transit</c>, <c>delivered</c>, …</summary>
    public string? LabelStatus { get; init; }

    public DateTimeOffset? LabelUpdatedAt { get; init; }

    public string? ShipmentId { get; init; }
}

/// <summary><c>return.processing.failed</c>: Process Return was accepted but failed in the background.</summary>
public sealed class LoopReturnProcessingFailed
{
    /// <summary><c>return.processing</c>.</summary>
    public string? Topic { get; init; }

    public string? Trigger { get; init; }

    public string? ReturnId { get; init; }

    /// <summary>Usually still <c>open</c> or <c>review</c>.</summary>
    public string? ReturnState { get; init; }

    /// <summary>May be generic or null.</summary>
    public string? Message { get; init; }

    /// <summary><c>warehouse</c>, <c>admin</c>, <c>api</c> or null.</summary>
    public string? Source { get; init; }
}

/// <summary><c>label.request.issued</c> / <c>.cancelled</c> (third-party label requests; shape from a spec mirror).</summary>
public sealed class LoopLabelRequestEvent
{
    public string? Id { get; init; }

    public string? ReturnId { get; init; }

    public string? ShopId { get; init; }

    public string? Status { get; init; }

    public LoopLabelRequestAddresses? Addresses { get; init; }

    public LoopParcel? Parcel { get; init; }

    public IReadOnlyList<LoopLabelRequestProduct> Products { get; init; } = [];

    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>Origin and destination of a label request. Personal data: never log.</summary>
public sealed class LoopLabelRequestAddresses
{
    public LoopCommerceAddress? Origin { get; init; }

    public LoopCommerceAddress? Destination { get; init; }
}

/// <summary>Parcel dimensions and weight as Loop sends them (units not documented).</summary>
public sealed class LoopParcel
{
    public decimal Height { get; init; }

    public decimal Length { get; init; }

    public decimal Width { get; init; }

    public decimal Weight { get; init; }
}

/// <summary>A product on a label request; price in minor units with key <c>currency</c> (not <c>currency_code</c>).</summary>
public sealed class LoopLabelRequestProduct
{
    public string? Name { get; init; }

    public string? Sku { get; init; }

    public string? HsCode { get; init; }

    public string? CountryOfOrigin { get; init; }

    public LoopLabelRequestPrice? Price { get; init; }
}

/// <summary>Minor-unit price keyed <c>currency</c>.</summary>
public sealed class LoopLabelRequestPrice
{
    public long Amount { get; init; }

    public string? Currency { get; init; }
}

/// <summary>A return destination (warehouse). Address uses <c>state</c>/<c>zip</c> like return addresses.</summary>
public sealed class LoopDestination
{
    public string? Id { get; init; }

    public string? Type { get; init; }

    public string? Name { get; init; }

    public bool Enabled { get; init; }

    public LoopAddress? Address { get; init; }
}

/// <summary>A note on a return.</summary>
public sealed class LoopReturnNote
{
    public string? Id { get; init; }

    public string? Content { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>A programmatic webhook subscription (Loop never returns its signing secret).</summary>
public sealed class LoopWebhookSubscription
{
    public string? Id { get; init; }

    public string? ShopId { get; init; }

    public string? Topic { get; init; }

    public string? Trigger { get; init; }

    public string? Url { get; init; }

    /// <summary><c>active</c> or <c>inactive</c>.</summary>
    public string? Status { get; init; }
}
