using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Fulfil;

/// <summary>A customer return shipment of a return order with its stock moves (what arrived, and where it went).</summary>
/// <param name="State"><c>draft</c>, <c>received</c>, <c>done</c> or <c>cancelled</c>.</param>
public sealed record FulfilReturnShipmentMoves(int Id, string? Number, string State, IReadOnlyList<FulfilStockMove> IncomingMoves, IReadOnlyList<FulfilStockMove> InventoryMoves);

/// <summary>A warehouse with the locations Tryton's customer return flow uses.</summary>
/// <param name="WasteIds">Locations outside storage that a return shipment may receive into (Tryton's <c>stock.location.waste</c>).</param>
public sealed record FulfilWarehouseFlow(int WarehouseId, int? InputId, int? StorageId, IReadOnlyList<int> WasteIds);

/// <summary>A <c>stock.move</c>.</summary>
public sealed record FulfilStockMove(int Id, int ProductId, decimal Quantity, string State, int? ToLocationId);

/// <summary>A customer invoice or credit note that Fulfil generated for a sale (e.g. a return order's credit note).</summary>
public sealed record FulfilSaleInvoice(int Id, string? Number, string State, decimal TotalAmount, string? Reference);

/// <summary>A line of a return sale, as its credit note must reverse it: negative quantity, price, the sale line's taxes.</summary>
public sealed record FulfilReturnSaleLine(int Id, int? ProductId, string? Description, decimal Quantity, decimal UnitPrice, IReadOnlyList<int> TaxIds);

/// <summary>A line of an invoice (to find a fee line already added).</summary>
public sealed record FulfilInvoiceLine(int Id, int? AccountId, decimal Quantity, decimal UnitPrice, string? Description);

/// <summary>A Fulfil gift card (model <see cref="FulfilOptions.GiftCardModel"/>).</summary>
/// <param name="State"><c>draft</c>, <c>active</c>, <c>canceled</c> or <c>used</c>.</param>
/// <param name="CurrencyId">The card's <c>currency.currency</c>.</param>
/// <param name="Reference">Our idempotency reference (<see cref="FulfilOptions.GiftCardReferenceField"/>).</param>
public sealed record FulfilGiftCard(int Id, string? Number, string State, decimal Amount, int? CurrencyId, string? Reference);

/// <summary>
/// The Fulfil reads and writes the outcome stages need beyond <see cref="IFulfilClient"/>: the moves of customer
/// return shipments (to receive partially and to know what arrived), and the invoices a return order generated.
/// Shares the <c>Fulfil</c> named <c>HttpClient</c> (and so its resilience pipeline and circuit) with
/// <see cref="IFulfilClient"/>.
/// </summary>
public interface IFulfilOutcomesClient
{
    /// <summary>Every customer return shipment of the return order, with incoming and inventory moves.</summary>
    Task<IReadOnlyList<FulfilReturnShipmentMoves>> GetReturnShipmentMovesAsync(int returnOrderId, CancellationToken cancellationToken);

    /// <summary>Sets the quantity of a draft move (a partial receipt receives only what arrived).</summary>
    Task SetDraftMoveQuantityAsync(int moveId, decimal quantity, CancellationToken cancellationToken);

    /// <summary>Customer invoices/credit notes generated from the sale (searched by <see cref="RefundsInvoiceDomainField"/>).</summary>
    Task<IReadOnlyList<FulfilSaleInvoice>> GetInvoicesOfSaleAsync(int saleId, CancellationToken cancellationToken);

    /// <summary>Writes our idempotency reference on a draft invoice taken over as the refund credit note.</summary>
    Task SetInvoiceReferenceAsync(int invoiceId, string reference, CancellationToken cancellationToken);

    /// <summary>The live (not cancelled) gift card carrying <paramref name="reference"/>, or null.</summary>
    Task<FulfilGiftCard?> FindGiftCardAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Creates a draft gift card for <paramref name="amount"/> in <paramref name="currencyCode"/> (no recipient: Loop already told the customer).</summary>
    Task<FulfilGiftCard> CreateGiftCardAsync(string reference, decimal amount, string currencyCode, string message, CancellationToken cancellationToken);

    /// <summary>Activates a draft gift card; an active (or already used) one is returned as it is. A cancelled one is refused (permanent).</summary>
    Task<FulfilGiftCard> ActivateGiftCardAsync(int giftCardId, CancellationToken cancellationToken);

    /// <summary>
    /// The sale's <c>invoice_method</c> (Tryton: <c>manual</c>, <c>order</c>, <c>shipment</c>), or null when Fulfil does
    /// not answer it: whether the ERP makes the return's credit note itself.
    /// </summary>
    Task<string?> GetInvoiceMethodAsync(int saleId, CancellationToken cancellationToken);

    /// <summary>The lines of a return sale with their taxes.</summary>
    Task<IReadOnlyList<FulfilReturnSaleLine>> GetSaleLinesAsync(int saleId, CancellationToken cancellationToken);

    /// <summary>The lines of an invoice.</summary>
    Task<IReadOnlyList<FulfilInvoiceLine>> GetInvoiceLinesAsync(int invoiceId, CancellationToken cancellationToken);

    /// <summary>Adds a line without product or taxes (a fee) to a draft invoice.</summary>
    Task AddInvoiceLineAsync(int invoiceId, int accountId, decimal quantity, decimal unitPrice, string description, CancellationToken cancellationToken);

    /// <summary>The party's own receivable account, or null when Fulfil uses the company default.</summary>
    Task<int?> GetPartyReceivableAsync(int partyId, CancellationToken cancellationToken);

    /// <summary>Inferred: the <c>account.invoice</c> field that links an invoice to its sales (Tryton's <c>sales</c>).</summary>
    string RefundsInvoiceDomainField { get; }

    /// <summary>The warehouse's return flow locations: input, storage and its waste locations (Tryton <c>waste_locations</c>).</summary>
    Task<FulfilWarehouseFlow> GetWarehouseFlowAsync(int warehouseId, CancellationToken cancellationToken);

    /// <summary>
    /// Receives a customer return shipment into <paramref name="locationId"/> the way Tryton allows it: receive (the
    /// incoming moves customer → input are done, draft inventory moves input → storage appear), point the draft
    /// inventory moves at the location, then done. When the warehouse's input is its storage there are no inventory
    /// moves and the incoming moves are pointed at the location before receive. Reads the state first at every step:
    /// safe to repeat, and it finishes a shipment someone received by hand.
    /// </summary>
    Task<FulfilReturnShipmentMoves> ReceiveIntoAsync(int shipmentId, int locationId, bool inputIsStorage, CancellationToken cancellationToken);
}

/// <inheritdoc cref="IFulfilOutcomesClient"/>
public sealed partial class FulfilOutcomesClient : IFulfilOutcomesClient
{
    private const string ReturnShipment = "stock.shipment.out.return";
    private readonly FulfilHttp _http;
    private readonly FulfilOptions _options;

    public FulfilOutcomesClient(HttpClient httpClient, IOptions<FulfilOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _http = new FulfilHttp(httpClient, _options, timeProvider);
    }

    public string RefundsInvoiceDomainField => "sales";

    public async Task<IReadOnlyList<FulfilReturnShipmentMoves>> GetReturnShipmentMovesAsync(int returnOrderId, CancellationToken cancellationToken)
    {
        var sales = await _http.SearchReadAsync<JsonElement>("sale.sale", [new object[] { "id", "=", returnOrderId }], 0, 1, ["id", _options.ReturnShipmentsField], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (sales.Count == 0)
        {
            throw new FulfilNotFoundException($"Fulfil has no sale.sale {returnOrderId}.");
        }

        var shipmentIds = sales[0].Ids(_options.ReturnShipmentsField);
        if (shipmentIds.Count == 0)
        {
            return [];
        }

        var shipments = await _http.SearchReadAllAsync<JsonElement>(ReturnShipment, [new object[] { "id", "in", shipmentIds }], ShipmentMoveFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await WithMovesAsync(shipments, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<FulfilReturnShipmentMoves>> WithMovesAsync(IReadOnlyList<JsonElement> shipments, CancellationToken cancellationToken)
    {
        int[] moveIds = [.. shipments.SelectMany(s => s.Ids("incoming_moves").Concat(s.Ids("inventory_moves"))).Distinct()];
        Dictionary<int, FulfilStockMove> moves = [];
        if (moveIds.Length > 0)
        {
            var rows = await _http.SearchReadAllAsync<JsonElement>("stock.move", [new object[] { "id", "in", moveIds }], ["id", "product", "quantity", "state", "to_location"], cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var r in rows)
            {
                moves[r.Id()] = new FulfilStockMove(r.Id(), r.IntOrNull("product") ?? 0, r.Dec("quantity"), r.Str("state") ?? "", r.IntOrNull("to_location"));
            }
        }

        return [.. shipments.Select(s => new FulfilReturnShipmentMoves(
            s.Id(),
            s.Str("number"),
            s.Str("state") ?? "",
            [.. s.Ids("incoming_moves").Where(moves.ContainsKey).Select(id => moves[id])],
            [.. s.Ids("inventory_moves").Where(moves.ContainsKey).Select(id => moves[id])]))];
    }

    public Task SetDraftMoveQuantityAsync(int moveId, decimal quantity, CancellationToken cancellationToken) =>
        _http.WriteAsync("stock.move", [moveId], new Dictionary<string, object?>(StringComparer.Ordinal) { ["quantity"] = new TrytonFloat(quantity) }, cancellationToken);

    public async Task<IReadOnlyList<FulfilSaleInvoice>> GetInvoicesOfSaleAsync(int saleId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(
            "account.invoice",
            [new object[] { RefundsInvoiceDomainField, "=", saleId }, new object[] { "type", "=", "out" }, new object[] { "state", "!=", "cancelled" }],
            ["id", "number", "state", "total_amount", _options.CreditNoteReferenceField],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new FulfilSaleInvoice(r.Id(), r.Str("number"), r.Str("state") ?? "", r.Dec("total_amount"), r.Str(_options.CreditNoteReferenceField)))];
    }

    public Task SetInvoiceReferenceAsync(int invoiceId, string reference, CancellationToken cancellationToken) =>
        _http.WriteAsync("account.invoice", [invoiceId], new Dictionary<string, object?>(StringComparer.Ordinal) { [_options.CreditNoteReferenceField] = reference }, cancellationToken);

    public async Task<string?> GetInvoiceMethodAsync(int saleId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>("sale.sale", [new object[] { "id", "=", saleId }], 0, 1, ["id", "invoice_method"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? throw new FulfilNotFoundException($"Fulfil has no sale.sale {Text(saleId)}.") : rows[0].Str("invoice_method");
    }

    public async Task<IReadOnlyList<FulfilReturnSaleLine>> GetSaleLinesAsync(int saleId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(
            "sale.line", [new object[] { "sale", "=", saleId }, new object[] { "type", "=", "line" }], ["id", "product", "description", "quantity", "unit_price", "taxes"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new FulfilReturnSaleLine(r.Id(), r.IntOrNull("product"), r.Str("description"), r.Dec("quantity"), r.Dec("unit_price"), r.Ids("taxes")))];
    }

    public async Task<IReadOnlyList<FulfilInvoiceLine>> GetInvoiceLinesAsync(int invoiceId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(
            "account.invoice.line", [new object[] { "invoice", "=", invoiceId }], ["id", "account", "quantity", "unit_price", "description"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new FulfilInvoiceLine(r.Id(), r.IntOrNull("account"), r.Dec("quantity"), r.Dec("unit_price"), r.Str("description")))];
    }

    public Task AddInvoiceLineAsync(int invoiceId, int accountId, decimal quantity, decimal unitPrice, string description, CancellationToken cancellationToken) =>
        _http.WriteAsync("account.invoice", [invoiceId], new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["lines"] = new object[]
            {
                new object[]
                {
                    "create",
                    new object[]
                    {
                        new Dictionary<string, object?>(StringComparer.Ordinal)
                        {
                            ["type"] = "line", ["account"] = accountId, ["quantity"] = new TrytonFloat(quantity), ["unit_price"] = unitPrice, ["description"] = description,
                        },
                    },
                },
            },
        }, cancellationToken);

    public async Task<int?> GetPartyReceivableAsync(int partyId, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>("party.party", [new object[] { "id", "=", partyId }], 0, 1, ["id", "account_receivable"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0].IntOrNull("account_receivable");
    }

    public async Task<FulfilGiftCard?> FindGiftCardAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var rows = await _http.SearchReadAsync<JsonElement>(
            _options.GiftCardModel, [new object[] { _options.GiftCardReferenceField, "=", reference }, new object[] { "state", "!=", "canceled" }], 0, 1, GiftCardFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : ToGiftCard(rows[0]);
    }

    public async Task<FulfilGiftCard> CreateGiftCardAsync(string reference, decimal amount, string currencyCode, string message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (amount <= 0)
        {
            throw new FulfilRequestException($"Gift card {reference} needs a positive amount (got {amount.ToString(CultureInfo.InvariantCulture)}).");
        }

        var currencies = await _http.SearchReadAsync<JsonElement>("currency.currency", [new object[] { "code", "=", currencyCode }], 0, 1, ["id", "code"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (currencies.Count == 0)
        {
            throw new FulfilRequestException($"Fulfil has no currency {currencyCode}; gift card {reference} cannot be issued.");
        }

        var ids = await _http.CreateAsync(_options.GiftCardModel,
        [
            new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["amount"] = amount,
                ["currency"] = currencies[0].Id(),
                [_options.GiftCardReferenceField] = reference,
                ["message"] = message,
            },
        ], cancellationToken).ConfigureAwait(false);
        return await ReadGiftCardAsync(ids[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilGiftCard> ActivateGiftCardAsync(int giftCardId, CancellationToken cancellationToken)
    {
        var card = await ReadGiftCardAsync(giftCardId, cancellationToken).ConfigureAwait(false);
        switch (card.State)
        {
            case "active":
            case "used":
                return card;
            case "draft":
                await _http.CallAsync(_options.GiftCardModel, "activate", [new[] { giftCardId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                return await ReadGiftCardAsync(giftCardId, cancellationToken).ConfigureAwait(false);
            default:
                throw new FulfilRequestException($"Gift card {card.Number ?? card.Reference ?? Text(giftCardId)} is {card.State}; it cannot be activated.");
        }
    }

    private async Task<FulfilGiftCard> ReadGiftCardAsync(int id, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(_options.GiftCardModel, [new object[] { "id", "=", id }], 0, 1, GiftCardFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? throw new FulfilNotFoundException($"Fulfil has no {_options.GiftCardModel} {Text(id)}.") : ToGiftCard(rows[0]);
    }

    private string[] GiftCardFields() => ["id", "number", "state", "amount", "currency", _options.GiftCardReferenceField];

    private FulfilGiftCard ToGiftCard(JsonElement r) =>
        new(r.Id(), r.Str("number"), r.Str("state") ?? "", r.Dec("amount"), r.IntOrNull("currency"), r.Str(_options.GiftCardReferenceField));

    internal static string Text(int id) => id.ToString(CultureInfo.InvariantCulture);
}
