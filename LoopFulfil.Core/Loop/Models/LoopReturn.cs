namespace LoopFulfil.Core.Loop.Models;

/// <summary>
/// A Loop return as sent in <c>return.*</c> webhooks, Get Return Details and the Detailed Returns List.
/// Money is <see cref="decimal"/> in the return's <see cref="Currency"/> (Loop sends decimal strings); ids are strings
/// (Loop sends strings or numbers); every field is optional because Loop adds and drops fields between versions.
/// </summary>
public sealed class LoopReturn
{
    /// <summary><c>return</c> on webhooks; absent on the pull APIs.</summary>
    public string? Topic { get; init; }

    /// <summary><c>return.created</c>, <c>return.updated</c>, <c>return.closed</c> on webhooks.</summary>
    public string? Trigger { get; init; }

    public string? ShopId { get; init; }

    /// <summary>Loop return id.</summary>
    public string? Id { get; init; }

    /// <summary><c>open</c>, <c>closed</c>, <c>cancelled</c>, <c>expired</c>, <c>review</c> (older payloads: <c>needs review</c>).</summary>
    public string? State { get; init; }

    /// <summary>Return-level outcome on the list API: <c>exchange, upsell, refund, credit, exchange+refund, exchange+credit, credit+refund</c>.</summary>
    public string? Outcome { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public DateTimeOffset? EditedAt { get; init; }

    public decimal Total { get; init; }

    /// <summary>Loop's own order id (not the platform's).</summary>
    public string? OrderId { get; init; }

    /// <summary>Platform order name, e.g. <c>#1001</c>: the key to the Fulfil sale reference.</summary>
    public string? OrderName { get; init; }

    public string? OrderNumber { get; init; }

    public string? ProviderOrderId { get; init; }

    public string? ProviderOrderExternalId { get; init; }

    public string? ProviderOrderNumber { get; init; }

    public string? ProviderOrderSalesChannel { get; init; }

    /// <summary>Customer e-mail. Personal data: never log.</summary>
    public string? Customer { get; init; }

    public LoopCustomerDetail? CustomerDetail { get; init; }

    public LoopAddress? Address { get; init; }

    /// <summary>ISO 4217 code of every amount on this return.</summary>
    public string? Currency { get; init; }

    public decimal ReturnProductTotal { get; init; }

    public decimal ReturnDiscountTotal { get; init; }

    public decimal ReturnTaxTotal { get; init; }

    public decimal ReturnTotal { get; init; }

    public decimal ReturnCreditTotal { get; init; }

    public decimal ExchangeProductTotal { get; init; }

    public decimal ExchangeDiscountTotal { get; init; }

    public decimal ExchangeTaxTotal { get; init; }

    public decimal ExchangeTotal { get; init; }

    public decimal ExchangeCreditTotal { get; init; }

    /// <summary>Store credit issued on a gift card.</summary>
    public decimal GiftCard { get; init; }

    public string? GiftCardOrderName { get; init; }

    public string? GiftCardOrderId { get; init; }

    public decimal HandlingFee { get; init; }

    /// <summary>What the customer paid on top when the exchange is worth more than the return.</summary>
    public decimal Upsell { get; init; }

    /// <summary>Amount refunded to the original payment.</summary>
    public decimal Refund { get; init; }

    public bool IsGiftReturn { get; init; }

    public IReadOnlyList<LoopRefund> Refunds { get; init; } = [];

    /// <summary>One element per returned unit (Loop has no quantity); the same <c>provider_line_item_id</c> repeats.</summary>
    public IReadOnlyList<LoopReturnLineItem> LineItems { get; init; } = [];

    public IReadOnlyList<LoopExchange> Exchanges { get; init; } = [];

    public IReadOnlyList<LoopLabel> Labels { get; init; } = [];

    public string? Carrier { get; init; }

    public string? TrackingNumber { get; init; }

    public string? LabelStatus { get; init; }

    public DateTimeOffset? LabelUpdatedAt { get; init; }

    public string? LabelUrl { get; init; }

    public decimal? LabelRate { get; init; }

    public string? DestinationId { get; init; }

    public string? StatusPageUrl { get; init; }

    public string? ReturnMethod { get; init; }

    public string? PackageReference { get; init; }

    public bool? MultiCurrency { get; init; }

    /// <summary>Fields this model does not name (Loop adds fields at will); read by configured checks such as <c>Returns:ProcessedDetailFields</c>.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? AdditionalFields { get; init; }
}

/// <summary>One returned unit.</summary>
public sealed class LoopReturnLineItem
{
    /// <summary>Loop line item id (the id the remove/grade APIs take).</summary>
    public string? LineItemId { get; init; }

    /// <summary>The platform order line this unit came from; repeats across units of one order line.</summary>
    public string? ProviderLineItemId { get; init; }

    public string? ProductId { get; init; }

    public string? VariantId { get; init; }

    public string? Sku { get; init; }

    public string? Barcode { get; init; }

    public string? Title { get; init; }

    public decimal Price { get; init; }

    public decimal Discount { get; init; }

    public decimal Tax { get; init; }

    public decimal Refund { get; init; }

    public decimal? RefundItem { get; init; }

    public decimal? RefundTax { get; init; }

    public DateTimeOffset? ReturnedAt { get; init; }

    /// <summary>Variant id the unit is exchanged for; empty when not an exchange.</summary>
    public string? ExchangeVariant { get; init; }

    public string? ReturnReason { get; init; }

    public string? ParentReturnReason { get; init; }

    /// <summary>Free text from the customer. Personal data: never log.</summary>
    public string? ReturnComment { get; init; }

    /// <summary>Only <c>default</c> has been seen.</summary>
    public string? Outcome { get; init; }

    public string? ProviderRestockLocationId { get; init; }
}

/// <summary>
/// A new item sent in exchange. Two shapes exist: items added to the original order (<see cref="ExchangeOrderName"/>
/// equals the return's order name, or is empty) and legacy separate orders named <c>EXC-…</c>.
/// </summary>
public sealed class LoopExchange
{
    public string? ExchangeId { get; init; }

    public string? ExchangeOrderId { get; init; }

    public string? ExchangeOrderName { get; init; }

    public string? ProductId { get; init; }

    public string? VariantId { get; init; }

    public string? Sku { get; init; }

    public string? Type { get; init; }

    public string? Title { get; init; }

    public decimal Price { get; init; }

    public decimal Discount { get; init; }

    public decimal Tax { get; init; }

    public decimal Total { get; init; }

    public bool OutOfStock { get; init; }

    public string? OutOfStockResolution { get; init; }

    /// <summary>True for the legacy shape: the exchange lives on its own <c>EXC-</c> order.</summary>
    public bool IsSeparateOrder => ExchangeOrderName?.StartsWith("EXC-", StringComparison.OrdinalIgnoreCase) == true;
}

/// <summary>Breakdown of a refund across payment gateways.</summary>
public sealed class LoopRefund
{
    public string? Gateway { get; init; }

    public decimal Amount { get; init; }

    public string? Currency { get; init; }

    public string? ProviderRefundId { get; init; }
}

/// <summary>A shipping label attached to a return.</summary>
public sealed class LoopLabel
{
    public string? Status { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public string? Url { get; init; }

    public decimal? Rate { get; init; }

    public string? Carrier { get; init; }

    public string? TrackingNumber { get; init; }

    public IReadOnlyList<string> LineItems { get; init; } = [];
}

/// <summary>Return address (Loop return payloads use <c>state</c>/<c>zip</c>). Personal data: never log.</summary>
public sealed class LoopAddress
{
    public string? Name { get; init; }

    public string? Company { get; init; }

    public string? Address1 { get; init; }

    public string? Address2 { get; init; }

    public string? City { get; init; }

    public string? State { get; init; }

    public string? Zip { get; init; }

    public string? Country { get; init; }

    public string? CountryCode { get; init; }

    public string? Phone { get; init; }
}

/// <summary>Customer details. Personal data: never log.</summary>
public sealed class LoopCustomerDetail
{
    public string? Email { get; init; }

    public string? FirstName { get; init; }

    public string? MiddleName { get; init; }

    public string? LastName { get; init; }
}
