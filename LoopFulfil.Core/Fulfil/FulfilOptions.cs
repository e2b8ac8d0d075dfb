namespace LoopFulfil.Core.Fulfil;

/// <summary>How requests to Fulfil authenticate.</summary>
public enum FulfilAuthMode
{
    /// <summary>Personal access token in <c>X-API-KEY</c>.</summary>
    ApiKey,

    /// <summary>OAuth access token in <c>Authorization: Bearer</c>.</summary>
    Bearer,
}

/// <summary>Which Loop order identifier finds the original Fulfil sale.</summary>
public enum FulfilSaleLookup
{
    /// <summary>Loop <c>order_name</c> (e.g. <c>#1001</c>) equals <c>sale.sale.reference</c>.</summary>
    OrderName,

    /// <summary>Loop <c>provider_order_id</c> (e.g. the Shopify order id) equals <c>sale.sale.channel_identifier</c>.</summary>
    ProviderOrderId,
}

/// <summary>
/// Connection to one merchant's Fulfil (REST v2) and the warehouse, location and account codes the integration posts to.
/// Field names marked "inferred" are not documented by Fulfil; they are settings so a merchant can correct them
/// without a release.
/// </summary>
public sealed class FulfilOptions
{
    public const string Section = "Fulfil";

    /// <summary>e.g. <c>https://acme.fulfil.io/api/v2</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Personal access token or OAuth access token (never logged).</summary>
    public string ApiKey { get; set; } = "";

    public FulfilAuthMode AuthMode { get; set; } = FulfilAuthMode.ApiKey;

    /// <summary>Sent as <c>?context={"company":…}</c> on every call.</summary>
    public int CompanyId { get; set; } = 1;

    /// <summary><c>stock.location</c> id of the warehouse that receives returns.</summary>
    public int WarehouseId { get; set; }

    /// <summary>Storage location outside the sellable tree where returns wait for inspection.</summary>
    public string QuarantineLocationCode { get; set; } = "QUAR";

    /// <summary>Sellable storage location (restocked goods go here).</summary>
    public string SellableLocationCode { get; set; } = "STOR";

    /// <summary>Location for goods that fail inspection.</summary>
    public string DamagedLocationCode { get; set; } = "DMG";

    public string ReturnsClearingAccountCode { get; set; } = "";

    public string GiftCardLiabilityAccountCode { get; set; } = "";

    /// <summary><c>account.journal</c> id used for journal entries (<c>account.move</c>).</summary>
    public int JournalId { get; set; }

    public FulfilSaleLookup SaleLookup { get; set; } = FulfilSaleLookup.OrderName;

    /// <summary><c>sale.channel</c> id for exchange orders (null: Fulfil's default channel).</summary>
    public int? ExchangeChannelId { get; set; }

    /// <summary><c>sale.sale.priority</c> for exchange orders (a selection value such as "1").</summary>
    public string ExchangePriority { get; set; } = "1";

    /// <summary>
    /// Ship exchange orders to the address on the Loop return (found or created on the customer party) when the return
    /// carries a usable one; false: always to the original sale's shipment address.
    /// </summary>
    public bool ExchangeShipToReturnAddress { get; set; } = true;

    /// <summary>Inferred: <c>party.address</c> field holding the recipient (<c>name</c>; newer Tryton also has <c>party_name</c>).</summary>
    public string AddressNameField { get; set; } = "name";

    /// <summary>
    /// Inferred: fill <c>party.address.subdivision</c> from the return's state (<c>country.subdivision</c> by code
    /// <c>{country}-{state}</c>, else by name). False: leave it empty.
    /// </summary>
    public bool AddressSubdivisionLookup { get; set; } = true;

    /// <summary>Records per <c>search_read</c> page.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Inferred: <c>account.move</c> field that carries our idempotency reference.</summary>
    public string JournalReferenceField { get; set; } = "description";

    /// <summary>Inferred: <c>account.invoice</c> field that carries our idempotency reference.</summary>
    public string CreditNoteReferenceField { get; set; } = "reference";

    /// <summary>Unverified (fulfil-api.md 5.10, C3): the gift card model used when <c>Refunds:StoreCreditDocument</c> is GiftCard.</summary>
    public string GiftCardModel { get; set; } = "gift_card.gift_card";

    /// <summary>Inferred: gift card field that carries our idempotency reference (<c>origin</c> is a reference to a sale, so a text field).</summary>
    public string GiftCardReferenceField { get; set; } = "comment";

    /// <summary>Inferred: unit field of <c>stock.move</c> (<c>uom</c>; Tryton 7 renamed it <c>unit</c>).</summary>
    public string MoveUnitField { get; set; } = "uom";

    /// <summary>Inferred: <c>sale.sale</c> field listing the customer return shipments of a return order.</summary>
    public string ReturnShipmentsField { get; set; } = "shipment_returns";

    /// <summary>Inferred: <c>sale.sale</c> field linking a return order to the sale it returns.</summary>
    public string ReturnOriginSaleField { get; set; } = "origin_sale";

    /// <summary>Inferred: <c>sale.line</c> field linking a return line to the line it returns.</summary>
    public string ReturnOriginLineField { get; set; } = "origin_line";

    /// <summary>Inferred: <c>stock.move</c> reference field naming the sale line a delivery move fulfils (<c>sale.line,ID</c>).</summary>
    public string MoveOriginField { get; set; } = "origin";
}
