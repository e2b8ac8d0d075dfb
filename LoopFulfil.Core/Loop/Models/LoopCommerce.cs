using System.Text.Json.Serialization;
using LoopFulfil.Core.Loop.Json;

namespace LoopFulfil.Core.Loop.Models;

/// <summary>Address on the Commerce Data APIs (<c>region</c>/<c>postal_code</c>). Personal data when a customer's: never log.</summary>
public sealed class LoopCommerceAddress
{
    public string? Name { get; init; }

    public string? Company { get; init; }

    public string? Address1 { get; init; }

    public string? Address2 { get; init; }

    public string? City { get; init; }

    public string? Region { get; init; }

    public string? PostalCode { get; init; }

    public string? Country { get; init; }

    public string? CountryCode { get; init; }
}

/// <summary>Body of <c>PUT /products</c> (upsert by <see cref="ExternalId"/>).</summary>
public sealed class LoopProductUpsert
{
    public required string ExternalId { get; init; }

    public required string Name { get; init; }

    public string? Channel { get; init; }

    public string? Sku { get; init; }

    public int? WeightGrams { get; init; }

    public string? Barcode { get; init; }

    public string? Description { get; init; }

    public string? Type { get; init; }

    public string? Vendor { get; init; }

    /// <summary>Minor units: the product API takes a bare integer here, unlike the money object on variants.</summary>
    public long? Price { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public IReadOnlyList<LoopProductOption>? Options { get; init; }

    public IReadOnlyList<string>? Images { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>A product option (e.g. Size: S, M, L).</summary>
public sealed class LoopProductOption
{
    public int Position { get; init; }

    public string? Name { get; init; }

    public IReadOnlyList<string>? Values { get; init; }
}

/// <summary>A product as Loop returns it.</summary>
public sealed class LoopProduct
{
    /// <summary>Loop's product id: store it against <see cref="ExternalId"/>.</summary>
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public string? Name { get; init; }

    public string? Sku { get; init; }

    public string? Channel { get; init; }
}

/// <summary>Body of <c>PUT /products/external/{productExternalId}/product-variants</c>.</summary>
public sealed class LoopVariantUpsert
{
    public required string ExternalId { get; init; }

    public required string Name { get; init; }

    public string? Sku { get; init; }

    public int? WeightGrams { get; init; }

    public string? Barcode { get; init; }

    public LoopMoney? Price { get; init; }

    public IReadOnlyList<string>? Images { get; init; }

    public IReadOnlyList<LoopVariantOption>? Options { get; init; }

    public LoopLogisticsInformation? LogisticsInformation { get; init; }

    public LoopDimensions? Dimensions { get; init; }
}

/// <summary>The value a variant takes for the product option at <see cref="Position"/>.</summary>
public sealed class LoopVariantOption
{
    public int Position { get; init; }

    public string? Value { get; init; }
}

/// <summary>Customs and shipping data of a variant.</summary>
public sealed class LoopLogisticsInformation
{
    public string? OriginCountryCode { get; init; }

    public string? OriginRegionCode { get; init; }

    public string? DefaultHsCode { get; init; }

    public bool? RequiresShipping { get; init; }

    public LoopMoney? Cost { get; init; }

    public IReadOnlyList<LoopDestinationHsCode>? DestinationCountryHsCodes { get; init; }
}

/// <summary>An HS code for one destination country.</summary>
public sealed class LoopDestinationHsCode
{
    public string? DestinationCountryCode { get; init; }

    public string? HsCode { get; init; }
}

/// <summary>Variant dimensions (units as the merchant configured them in Loop).</summary>
public sealed class LoopDimensions
{
    public decimal Depth { get; init; }

    public decimal Width { get; init; }

    public decimal Height { get; init; }
}

/// <summary>A product variant as Loop returns it.</summary>
public sealed class LoopVariant
{
    /// <summary>Loop's variant id: used for inventories and order lines.</summary>
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public string? Sku { get; init; }

    public string? Name { get; init; }

    public int? WeightGrams { get; init; }

    public string? Barcode { get; init; }

    public LoopIdReference? Product { get; init; }
}

/// <summary>A reference to a Loop resource by Loop id or by external id (never both: Loop rejects that).</summary>
public sealed class LoopIdReference
{
    [JsonConverter(typeof(LoopIdConverter))]
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    /// <summary>By Loop global id.</summary>
    public static LoopIdReference ByLoopId(string id) => new() { Id = id };

    /// <summary>By the id the integration gave the resource.</summary>
    public static LoopIdReference ByExternalId(string externalId) => new() { ExternalId = externalId };
}

/// <summary>Order status on the Commerce Data APIs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LoopOrderStatus>))]
public enum LoopOrderStatus
{
    [JsonStringEnumMemberName("active")]
    Active,

    [JsonStringEnumMemberName("archived")]
    Archived,

    [JsonStringEnumMemberName("cancelled")]
    Cancelled,

    [JsonStringEnumMemberName("unknown")]
    Unknown,
}

/// <summary>Maps Fulfil (Tryton) sale states onto <see cref="LoopOrderStatus"/>.</summary>
public static class LoopOrderStatusMap
{
    /// <summary>
    /// confirmed/processing → active (returnable once fulfilled); done → archived (complete, still returnable);
    /// cancel/cancelled → cancelled; draft, quotation and anything unrecognised → unknown.
    /// </summary>
    public static LoopOrderStatus FromFulfilSaleState(string? state) => state?.Trim().ToLowerInvariant() switch
    {
        // A done sale is shipped and invoiced: exactly the orders customers return (issue #15 item 8). Orders leave
        // Loop's returnable set only when fully returned or out of the return window (CommerceMapper.Status).
        "confirmed" or "processing" or "done" => LoopOrderStatus.Active,
        "cancel" or "cancelled" => LoopOrderStatus.Cancelled,
        _ => LoopOrderStatus.Unknown,
    };
}

/// <summary>Body of <c>PUT /orders</c> (upsert by <see cref="ExternalId"/>). From API 2026-10 <see cref="CreatedAt"/> is required.</summary>
public sealed class LoopOrderUpsert
{
    public required string ExternalId { get; init; }

    /// <summary>Order name as customers know it, e.g. <c>#1001</c>.</summary>
    public required string Name { get; init; }

    public LoopOrderStatus Status { get; init; } = LoopOrderStatus.Active;

    public string? Channel { get; init; }

    public LoopIdReference? Customer { get; init; }

    public LoopCommerceAddress? ShippingAddress { get; init; }

    public LoopCommerceAddress? BillingAddress { get; init; }

    public bool? TaxesIncluded { get; init; }

    public LoopMoney? TotalPrice { get; init; }

    public LoopMoney? TotalDiscounts { get; init; }

    public LoopMoney? TotalTaxes { get; init; }

    public IReadOnlyList<LoopOrderLineItem> LineItems { get; init; } = [];

    public IReadOnlyList<LoopOrderFulfillment>? Fulfillments { get; init; }

    /// <summary>Refunds already made against the order's lines (those quantities are no longer returnable).</summary>
    public IReadOnlyList<LoopOrderRefund>? Refunds { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A refund on an order (<c>type: line_item</c>).</summary>
public sealed class LoopOrderRefund
{
    public required string ExternalId { get; init; }

    public string Type { get; init; } = "line_item";

    public LoopMoney? Amount { get; init; }

    /// <summary>The refunded line, referenced by Loop id or by its external id (never both).</summary>
    public required LoopRefundLineItem LineItem { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>The line and quantity a refund covers.</summary>
public sealed class LoopRefundLineItem
{
    [JsonConverter(typeof(LoopIdConverter))]
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public int Quantity { get; init; }

    public bool Restock { get; init; }
}

/// <summary>An order line; <see cref="Product"/> and <see cref="ProductVariant"/> reference Loop ids.</summary>
public sealed class LoopOrderLineItem
{
    public required string ExternalId { get; init; }

    public LoopIdReference? Product { get; init; }

    public LoopIdReference? ProductVariant { get; init; }

    public int Quantity { get; init; }

    public LoopMoney? UnitPrice { get; init; }

    public LoopMoney? UnitDiscounts { get; init; }

    public bool? Taxable { get; init; }
}

/// <summary>
/// A fulfillment (an order is returnable only once fulfilled). Loop's full fulfillment schema was not captured;
/// these are the fields its examples show.
/// </summary>
public sealed class LoopOrderFulfillment
{
    public required string ExternalId { get; init; }

    public LoopIdReference? Location { get; init; }

    public IReadOnlyList<LoopFulfillmentLine>? LineItems { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>Quantity of one order line in a fulfillment.</summary>
public sealed class LoopFulfillmentLine
{
    public required string ExternalId { get; init; }

    public int Quantity { get; init; }
}

/// <summary>An order as Loop returns it.</summary>
public sealed class LoopOrder
{
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public string? Name { get; init; }

    /// <summary>Kept as text so an unknown future status never breaks reading.</summary>
    public string? Status { get; init; }

    public LoopIdReference? Customer { get; init; }
}

/// <summary>Body of <c>PUT /customers</c> (upsert by <see cref="ExternalId"/>). Personal data: never log.</summary>
public sealed class LoopCustomerUpsert
{
    public required string ExternalId { get; init; }

    public string? Channel { get; init; }

    public string? FirstName { get; init; }

    public string? LastName { get; init; }

    public string? Email { get; init; }

    public string? Phone { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>A customer as Loop returns it. Personal data: never log.</summary>
public sealed class LoopCustomer
{
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public string? Channel { get; init; }

    public string? FirstName { get; init; }

    public string? LastName { get; init; }

    public string? Email { get; init; }

    public string? Phone { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>Body of <c>PUT /locations</c> (upsert by <see cref="ExternalId"/>).</summary>
public sealed class LoopLocationUpsert
{
    public required string ExternalId { get; init; }

    public required string Name { get; init; }

    /// <summary><c>active</c> or <c>inactive</c>.</summary>
    public string Status { get; init; } = "active";

    public required LoopCommerceAddress Address { get; init; }

    public string? Channel { get; init; }
}

/// <summary>A location as Loop returns it.</summary>
public sealed class LoopLocation
{
    public string? Id { get; init; }

    public string? ExternalId { get; init; }

    public string? Channel { get; init; }

    public string? Name { get; init; }

    public string? Status { get; init; }

    /// <summary>An object on the location API, a one-element array inside inventory responses.</summary>
    [JsonConverter(typeof(LoopSingleOrFirstConverter<LoopCommerceAddress>))]
    public LoopCommerceAddress? Address { get; init; }
}

/// <summary>Response of <c>POST /inventories/{variantId}/{locationId}</c>: an absolute available count.</summary>
public sealed class LoopInventory
{
    public long AvailableCount { get; init; }

    public IReadOnlyList<LoopVariant> ProductVariant { get; init; } = [];

    public IReadOnlyList<LoopLocation> Location { get; init; } = [];
}
