using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.CommerceSync;

/// <summary>
/// Turns Fulfil records into Loop Commerce Data bodies. Pure: the same Fulfil data always gives the same body and
/// therefore the same <see cref="Hash"/>, which is what lets an unchanged record cost no Loop call.
/// </summary>
public static class CommerceMapper
{
    /// <summary>Loop's limits on customer names, emails and phone numbers.</summary>
    private const int MaxNameLength = 50;
    private const int MaxEmailLength = 255;
    private const int MaxPhoneLength = 30;

    /// <summary>Content hash of a body as Loop would receive it (SHA-256 of its JSON, hex).</summary>
    public static string Hash<T>(T body, string? salt = null)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(body, LoopJson.Options);
        if (salt is not null)
        {
            json = [.. json, .. System.Text.Encoding.UTF8.GetBytes("\n" + salt)];
        }

        return Convert.ToHexString(SHA256.HashData(json))[..32];
    }

    /// <summary>Fulfil ids become Loop external ids as invariant decimal text.</summary>
    public static string ExternalId(int fulfilId) => fulfilId.ToString(CultureInfo.InvariantCulture);

    /// <summary>A Loop product from a Fulfil product template.</summary>
    public static LoopProductUpsert Product(FulfilProductTemplate template, string? fallbackName, string channel, string currency) => new()
    {
        ExternalId = ExternalId(template.Id),
        Name = NonEmpty(template.Name) ?? NonEmpty(fallbackName) ?? "Product " + ExternalId(template.Id),
        Channel = channel,
        Price = template.ListPrice is { } price ? LoopMoney.FromDecimal(price, currency).Amount : null,
        Tags = template.Active ? null : ["archived"],
    };

    /// <summary>Why a variant cannot be pushed, or null when it can.</summary>
    public static string? VariantProblem(FulfilProduct? product, int productId)
    {
        if (product is null)
        {
            return $"product {productId} does not exist in Fulfil";
        }

        if (string.IsNullOrWhiteSpace(product.Sku))
        {
            return $"product {productId} has no SKU (code)";
        }

        return product.TemplateId is null ? $"product {productId} has no template" : null;
    }

    /// <summary>A Loop variant from a Fulfil variant (priced from its template when it has no price of its own).</summary>
    public static LoopVariantUpsert Variant(FulfilProduct product, FulfilProductTemplate? template, string currency) => new()
    {
        ExternalId = ExternalId(product.Id),
        Name = NonEmpty(product.Name) ?? product.Sku,
        Sku = product.Sku,
        Price = (product.ListPrice ?? template?.ListPrice) is { } price ? LoopMoney.FromDecimal(price, currency) : null,
    };

    /// <summary>
    /// A Loop customer from a Fulfil party. The name is split at its last space; email and phone come from the party's
    /// contact mechanisms (Loop's order lookup asks the customer for the email). Personal data: sent to Loop only.
    /// </summary>
    public static LoopCustomerUpsert Customer(FulfilParty party, string channel)
    {
        var name = (party.Name ?? "").Trim();
        var cut = name.LastIndexOf(' ');
        var (first, last) = cut > 0 ? (name[..cut].Trim(), name[(cut + 1)..].Trim()) : (name, "");
        return new LoopCustomerUpsert
        {
            ExternalId = ExternalId(party.Id),
            Channel = channel,
            FirstName = Clip(NonEmpty(first)),
            LastName = Clip(NonEmpty(last)),
            Email = Clip(NonEmpty(party.Email), MaxEmailLength),
            Phone = Clip(NonEmpty(party.Phone), MaxPhoneLength),
        };
    }

    /// <summary>A Loop address from a Fulfil party address (region: the part of the ISO 3166-2 code after the country).</summary>
    public static LoopCommerceAddress? Address(FulfilPostalAddress? address)
    {
        if (address is null || NonEmpty(address.Street) is null)
        {
            return null;
        }

        var lines = address.Street!.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var subdivision = NonEmpty(address.SubdivisionCode);
        return new LoopCommerceAddress
        {
            Name = NonEmpty(address.Name),
            Address1 = lines.Length > 0 ? lines[0] : null,
            Address2 = NonEmpty(address.StreetBis) ?? (lines.Length > 1 ? string.Join(", ", lines[1..]) : null),
            City = NonEmpty(address.City),
            Region = subdivision is null ? null : subdivision[(subdivision.IndexOf('-', StringComparison.Ordinal) + 1)..],
            PostalCode = NonEmpty(address.Zip),
            CountryCode = NonEmpty(address.CountryCode),
        };
    }

    /// <summary>A Loop location from a Fulfil warehouse.</summary>
    public static LoopLocationUpsert Location(FulfilLocationNode warehouse, CommerceSyncOptions options) => new()
    {
        ExternalId = ExternalId(warehouse.Id),
        Name = NonEmpty(warehouse.Name) ?? warehouse.Code,
        Status = warehouse.Active ? "active" : "inactive",
        Channel = options.Channel,
        Address = new LoopCommerceAddress
        {
            Name = NonEmpty(warehouse.Name) ?? warehouse.Code,
            Address1 = NonEmpty(options.WarehouseAddress1) ?? NonEmpty(warehouse.Name) ?? warehouse.Code,
            City = NonEmpty(options.WarehouseCity) ?? "-",
            Region = NonEmpty(options.WarehouseRegion),
            PostalCode = NonEmpty(options.WarehousePostalCode),
            CountryCode = NonEmpty(options.WarehouseCountryCode) ?? "US",
        },
    };

    /// <summary>
    /// Loop status of a sale: cancelled sales are cancelled; sales whose every line has been returned in full, and
    /// sales older than the return window, are archived; otherwise Fulfil's state decides.
    /// </summary>
    public static LoopOrderStatus Status(FulfilSale sale, IReadOnlyDictionary<int, decimal> returnedByLine, DateOnly windowStart)
    {
        var state = sale.State.Trim().ToLowerInvariant();
        if (state is "cancel" or "cancelled")
        {
            return LoopOrderStatus.Cancelled;
        }

        var productLines = sale.Lines.Where(l => l.ProductId is not null && l.Quantity > 0).ToList();
        var fullyReturned = productLines.Count > 0 && productLines.All(l => returnedByLine.GetValueOrDefault(l.Id) >= l.Quantity);
        if (fullyReturned || (sale.SaleDate is { } date && date < windowStart))
        {
            return LoopOrderStatus.Archived;
        }

        return LoopOrderStatusMap.FromFulfilSaleState(sale.State);
    }

    /// <summary>Loop ids an order line needs.</summary>
    public sealed record LineRefs(string ProductLoopId, string VariantLoopId);

    /// <summary>
    /// A Loop order. Every line in <paramref name="lineRefs"/> references Loop ids; lines without a product are left
    /// out (nothing to return). Fulfilments come from done delivery moves, refunds from return orders' lines.
    /// </summary>
    public static LoopOrderUpsert Order(
        FulfilSaleSnapshot snapshot,
        LoopOrderStatus status,
        IReadOnlyDictionary<int, LineRefs> lineRefs,
        string? customerLoopId,
        string? locationLoopId,
        IReadOnlyList<FulfilOutgoingMove> shipped,
        IReadOnlyList<FulfilSaleSnapshot> returns,
        string channel,
        string currency,
        IReadOnlyDictionary<int, CommerceReturnRefund>? returnRefunds = null)
    {
        var sale = snapshot.Sale;
        var lines = sale.Lines.Where(l => l.ProductId is not null && lineRefs.ContainsKey(l.Id)).OrderBy(l => l.Id).ToList();
        var lineIds = lines.Select(l => l.Id).ToHashSet();
        var fulfillments = shipped
            .Where(m => lineIds.Contains(m.SaleLineId))
            .GroupBy(m => m.Shipment ?? "move," + ExternalId(m.Id), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new LoopOrderFulfillment
            {
                ExternalId = g.Key,
                Location = locationLoopId is null ? null : LoopIdReference.ByLoopId(locationLoopId),
                LineItems = g.GroupBy(m => m.SaleLineId).OrderBy(x => x.Key)
                    .Select(x => new LoopFulfillmentLine { ExternalId = ExternalId(x.Key), Quantity = WholeUnits(x.Sum(m => m.Quantity)) }).ToList(),
                CreatedAt = g.Max(m => m.EffectiveDate) is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            })
            .ToList();
        var refunds = returns
            .Where(r => r.Stands && r.Sale.State != "draft")
            .OrderBy(r => r.Sale.Id)
            .SelectMany(r => ReturnRefunds(r, lineIds, returnRefunds?.GetValueOrDefault(r.Sale.Id), currency))
            .ToList();
        return new LoopOrderUpsert
        {
            ExternalId = ExternalId(sale.Id),
            Name = NonEmpty(sale.Reference) ?? NonEmpty(sale.Number) ?? ExternalId(sale.Id),
            Status = status,
            Channel = channel,
            Customer = customerLoopId is null ? null : LoopIdReference.ByLoopId(customerLoopId),
            ShippingAddress = Address(snapshot.ShipmentAddress),
            BillingAddress = Address(snapshot.InvoiceAddress),
            TotalPrice = sale.TotalAmount is { } total ? LoopMoney.FromDecimal(total, currency) : null,
            LineItems = lines.Select(l => new LoopOrderLineItem
            {
                ExternalId = ExternalId(l.Id),
                Product = LoopIdReference.ByLoopId(lineRefs[l.Id].ProductLoopId),
                ProductVariant = LoopIdReference.ByLoopId(lineRefs[l.Id].VariantLoopId),
                Quantity = WholeUnits(l.Quantity),
                UnitPrice = LoopMoney.FromDecimal(l.UnitPrice, currency),
            }).ToList(),
            Fulfillments = fulfillments.Count == 0 ? null : fulfillments,
            Refunds = refunds.Count == 0 ? null : refunds,
            CreatedAt = Stamp(snapshot.CreateDate, sale.SaleDate) ?? DateTimeOffset.UnixEpoch,
        };
    }

    /// <summary>
    /// The Loop refunds of one return order: one per returned line (the quantity is no longer returnable). Without a
    /// known refund each is valued at the line's price; with a posted credit note (<paramref name="refund"/>) its amount
    /// is spread over the lines in proportion to their value (the last line takes the rounding) and the refunds carry
    /// its reference as external id (suffixed <c>-1</c>, <c>-2</c>… when there are several lines), so Loop shows exactly
    /// what was refunded and a re-push replaces rather than adds.
    /// </summary>
    private static IEnumerable<LoopOrderRefund> ReturnRefunds(FulfilSaleSnapshot r, HashSet<int> lineIds, CommerceReturnRefund? refund, string currency)
    {
        var lines = r.Sale.Lines.OrderBy(l => l.Id).Where(l => r.OriginLineBySaleLine.TryGetValue(l.Id, out var origin) && lineIds.Contains(origin)).ToList();
        var values = lines.Select(l => Math.Abs(l.Quantity * l.UnitPrice)).ToList();
        var total = values.Sum();
        var allocated = 0m;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            decimal amount;
            if (refund is null)
            {
                amount = values[i];
            }
            else if (i == lines.Count - 1)
            {
                amount = refund.Amount - allocated;
            }
            else
            {
                amount = total == 0m ? 0m : decimal.Round(refund.Amount * values[i] / total, 2, MidpointRounding.ToEven);
                allocated += amount;
            }

            yield return new LoopOrderRefund
            {
                ExternalId = refund is null ? ExternalId(line.Id) : lines.Count == 1 ? refund.Reference : refund.Reference + "-" + (i + 1).ToString(CultureInfo.InvariantCulture),
                Amount = LoopMoney.FromDecimal(amount, currency),
                // Restock false: Fulfil owns stock and the inventory sync tells Loop what is sellable.
                LineItem = new LoopRefundLineItem { ExternalId = ExternalId(r.OriginLineBySaleLine[line.Id]), Quantity = WholeUnits(Math.Abs(line.Quantity)) },
                CreatedAt = refund is null ? Stamp(r.CreateDate, r.Sale.SaleDate) : Seconds(refund.PostedAt),
            };
        }
    }

    private static DateTimeOffset Seconds(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>Quantity returned per original sale line, over return orders that stand (not cancelled, withdrawn or drafts).</summary>
    public static Dictionary<int, decimal> ReturnedByLine(IEnumerable<FulfilSaleSnapshot> returns)
    {
        var result = new Dictionary<int, decimal>();
        foreach (var r in returns.Where(r => r.Stands && r.Sale.State != "draft"))
        {
            foreach (var line in r.Sale.Lines)
            {
                if (r.OriginLineBySaleLine.TryGetValue(line.Id, out var origin))
                {
                    result[origin] = result.GetValueOrDefault(origin) + Math.Abs(line.Quantity);
                }
            }
        }

        return result;
    }

    // Loop counts units; Fulfil quantities are decimals (a unit of measure may be fractional). Rounding down never
    // offers more than exists.
    private static int WholeUnits(decimal quantity) => (int)decimal.Floor(Math.Max(0m, quantity));

    // Seconds precision: the wire form has no fraction, and a sub-second difference must not change the hash.
    private static DateTimeOffset? Stamp(DateTime? at, DateOnly? date)
    {
        if (at is { } t)
        {
            var utc = DateTime.SpecifyKind(t, DateTimeKind.Utc);
            return new DateTimeOffset(utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond)), TimeSpan.Zero);
        }

        return date is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? Clip(string? value, int max = MaxNameLength) => value is null || value.Length <= max ? value : value[..max];
}
