namespace LoopFulfil.Core.Fulfil;

// What the integration reads from and writes to Fulfil. Money and quantities are decimal; Tryton encoding
// happens only inside FulfilHttp.

/// <summary>A <c>product.product</c> variant. <see cref="Active"/> false means archived (not missing).</summary>
public sealed record FulfilProduct(int Id, string Sku, string? Name, bool Active, int? TemplateId, decimal? ListPrice, DateTime? WriteDate);

/// <summary>A <c>sale.sale</c>: a sales order or a return order (negative line quantities).</summary>
public sealed record FulfilSale(
    int Id,
    string? Reference,
    string? Number,
    string State,
    int? PartyId,
    int? ShipmentAddressId,
    int? InvoiceAddressId,
    int? ChannelId,
    string? ChannelIdentifier,
    string? Priority,
    int? WarehouseId,
    DateOnly? SaleDate,
    decimal? TotalAmount,
    IReadOnlyList<FulfilSaleLine> Lines,
    IReadOnlyList<int> ReturnShipmentIds);

/// <summary>A <c>sale.line</c>.</summary>
public sealed record FulfilSaleLine(
    int Id,
    int? ProductId,
    string? ProductCode,
    decimal Quantity,
    decimal UnitPrice,
    string? ChannelIdentifier,
    string? Description);

/// <summary>Arguments of <c>sale.sale/{id}/return_order</c>.</summary>
/// <param name="OriginalSaleId">The sale being returned against.</param>
/// <param name="LoopReturnId">Becomes the return order's <c>channel_identifier</c>, Fulfil's idempotency key.</param>
/// <param name="Reference">Return order reference (RMA), optional.</param>
public sealed record FulfilReturnOrderRequest(int OriginalSaleId, string LoopReturnId, string? Reference, IReadOnlyList<FulfilReturnLineRequest> Lines);

/// <param name="OrderLineId">The original <c>sale.line</c> id.</param>
/// <param name="Quantity">Positive quantity returned.</param>
/// <param name="UnitPrice">Refund price per unit; null keeps the original price.</param>
/// <param name="LoopLineId">Loop line item id, stored as the line's <c>channel_identifier</c>.</param>
public sealed record FulfilReturnLineRequest(int OrderLineId, decimal Quantity, decimal? UnitPrice, string LoopLineId, string? Reason, string? Note = null);

/// <summary>A <c>stock.shipment.out.return</c> (customer return receipt).</summary>
public sealed record FulfilCustomerReturnShipment(int Id, string? Number, string? Reference, string State, int? WarehouseId);

/// <summary>A <c>stock.shipment.internal</c> to create; <see cref="Reference"/> is the idempotency key.</summary>
public sealed record FulfilInternalShipmentRequest(string Reference, int FromLocationId, int ToLocationId, DateOnly PlannedDate, IReadOnlyList<FulfilMoveRequest> Moves);

public sealed record FulfilMoveRequest(int ProductId, decimal Quantity);

/// <summary>A <c>stock.shipment.internal</c>.</summary>
public sealed record FulfilInternalShipment(int Id, string? Reference, string? Number, string State, int FromLocationId, int ToLocationId);

/// <summary>A customer credit note (<c>account.invoice</c> type out) to create. Quantities are negative for credits.</summary>
public sealed record FulfilCreditNoteRequest(
    string Reference,
    int PartyId,
    DateOnly InvoiceDate,
    string? Description,
    IReadOnlyList<FulfilCreditNoteLine> Lines,
    int? InvoiceAddressId = null,
    int? ReceivableAccountId = null);

/// <param name="Quantity">Negative on a credit note.</param>
/// <param name="AccountId">Revenue/clearing account of the line; null lets Fulfil use the product's.</param>
/// <param name="TaxIds">The taxes of the sale line the credit line reverses (Fulfil computes the reversal).</param>
public sealed record FulfilCreditNoteLine(int? ProductId, string Description, decimal Quantity, decimal UnitPrice, int? AccountId, IReadOnlyList<int>? TaxIds = null);

/// <summary>An <c>account.invoice</c> credit note.</summary>
/// <param name="TaxAmount">Fulfil's computed tax (negative on a credit note).</param>
/// <param name="AccountId">The receivable the invoice books against (the party's).</param>
public sealed record FulfilCreditNote(int Id, string? Reference, string? Number, string State, int? PartyId, DateOnly? InvoiceDate, decimal TotalAmount, decimal TaxAmount = 0m, int? AccountId = null);

/// <summary>An <c>account.move</c> to create; debits must equal credits.</summary>
public sealed record FulfilJournalEntryRequest(string Reference, DateOnly Date, IReadOnlyList<FulfilJournalLine> Lines);

/// <param name="PartyId">Required by Fulfil on receivable/payable accounts.</param>
public sealed record FulfilJournalLine(int AccountId, decimal Debit, decimal Credit, int? PartyId, string? Description);

/// <summary>An <c>account.move</c> with its lines.</summary>
public sealed record FulfilJournalEntry(int Id, string? Reference, string? Number, string State, DateOnly? Date, IReadOnlyList<FulfilJournalLine> Lines);

/// <summary>A sales order (e.g. an exchange) to create; <see cref="ChannelIdentifier"/> is the idempotency key.</summary>
/// <param name="ChannelId">Null: <see cref="FulfilOptions.ExchangeChannelId"/>.</param>
/// <param name="Priority">Null: <see cref="FulfilOptions.ExchangePriority"/>.</param>
public sealed record FulfilSaleOrderRequest(
    string Reference,
    string ChannelIdentifier,
    int PartyId,
    int? ShipmentAddressId,
    int? InvoiceAddressId,
    DateOnly SaleDate,
    string? Description,
    IReadOnlyList<FulfilSaleOrderLine> Lines,
    int? ChannelId = null,
    string? Priority = null);

public sealed record FulfilSaleOrderLine(int ProductId, decimal Quantity, decimal UnitPrice, string? Description);

/// <summary>Quantity on hand of one product in one location (children included).</summary>
public sealed record FulfilStockLevel(int ProductId, string Sku, int LocationId, decimal Quantity);

/// <summary>A <c>stock.location</c>.</summary>
public sealed record FulfilLocation(int Id, string Code, string Name, string Type, int? ParentId);

/// <summary>An <c>account.account</c>.</summary>
public sealed record FulfilAccount(int Id, string Code, string Name, string? Type);

/// <summary>Where a keyset walk stopped: the last record handled (its stamp — write or create date — and id).</summary>
public sealed record FulfilCursor(DateTime WriteDate, int Id);

/// <summary>
/// Which timestamp a keyset walk follows. Tryton sets <c>create_date</c> on create and <c>write_date</c> only on a
/// later write, so a record never edited since it was created has an empty <c>write_date</c>: a walk over
/// <c>write_date</c> alone would never see it. The two walks split the records between them without overlap.
/// </summary>
public enum FulfilStampField
{
    /// <summary>Records written at least once, by (<c>write_date</c>, id).</summary>
    WriteDate,

    /// <summary>Records never written since their creation (<c>write_date</c> empty), by (<c>create_date</c>, id).</summary>
    CreateDate,
}

/// <summary>
/// One page of records of <see cref="Model"/> stamped after <see cref="After"/>, ordered by (stamp, id), where the
/// stamp is <see cref="Stamp"/>. <see cref="RefField"/> (a Many2One) is returned with each stamp when set, e.g.
/// <c>product</c> of a stock move.
/// </summary>
public sealed record FulfilModifiedQuery(string Model, FulfilCursor? After, int Limit, IReadOnlyList<object?>? Domain = null, string? RefField = null, FulfilStampField Stamp = FulfilStampField.WriteDate);

/// <summary>A record's id and the stamp the walk follows (and the Many2One asked for in <see cref="FulfilModifiedQuery.RefField"/>).</summary>
public sealed record FulfilStamp(int Id, DateTime WriteDate, int? Ref = null);

/// <summary>A <c>product.template</c>: the product that groups variants.</summary>
public sealed record FulfilProductTemplate(int Id, string? Name, decimal? ListPrice, bool Active, DateTime? WriteDate);

/// <summary>A <c>party.party</c> (customer). Personal data: never log anything but the id.</summary>
public sealed record FulfilParty(int Id, string? Name, string? Code, bool Active, DateTime? WriteDate)
{
    /// <summary>The party's first active email contact mechanism (Loop's order lookup asks the customer for it).</summary>
    public string? Email { get; init; }

    /// <summary>The party's first active phone or mobile contact mechanism.</summary>
    public string? Phone { get; init; }
}

/// <summary>A <c>party.address</c> as the commerce push sends it. Personal data: never log it.</summary>
/// <param name="SubdivisionCode">ISO 3166-2 code of the state or province (<c>US-NY</c>), when set.</param>
public sealed record FulfilPostalAddress(int Id, string? Name, string? Street, string? StreetBis, string? City, string? Zip, string? CountryCode, string? SubdivisionCode);

/// <summary>A <c>stock.location</c> with the tree and warehouse links needed to tell sellable stock apart.</summary>
public sealed record FulfilLocationNode(int Id, string Code, string Name, string Type, int? ParentId, int? StorageLocationId, bool Active, DateTime? WriteDate);

/// <summary>A sale with what the commerce push needs beyond <see cref="FulfilSale"/>: dates, the return link and addresses.</summary>
public sealed record FulfilSaleSnapshot(FulfilSale Sale, DateTime? CreateDate, DateTime? WriteDate, bool IsReturn, int? OriginSaleId, IReadOnlyDictionary<int, int> OriginLineBySaleLine)
{
    public FulfilPostalAddress? ShipmentAddress { get; init; }

    public FulfilPostalAddress? InvoiceAddress { get; init; }

    /// <summary>
    /// A return sale that brings nothing back: it made customer return shipments and every one was cancelled. Tryton
    /// keeps such a sale <c>processing</c> (its <c>sale.cancel</c> moves only draft and quoted sales), so the state
    /// alone does not say the return was withdrawn; its quantities no longer count as returned.
    /// </summary>
    public bool Withdrawn { get; init; }

    /// <summary>Neither cancelled nor withdrawn: its quantities count as returned.</summary>
    public bool Stands => Sale.State is not ("cancel" or "cancelled") && !Withdrawn;
}

/// <summary>A done stock move that took a sale line's goods to a customer location (a fulfilment).</summary>
public sealed record FulfilOutgoingMove(int Id, int SaleLineId, decimal Quantity, string? Shipment, int? FromLocationId, DateOnly? EffectiveDate);
