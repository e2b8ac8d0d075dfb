using System.Globalization;
using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Reads for the commerce data push (Fulfil → Loop): keyset walks over write_date and batched reads by id lists.
public sealed partial class FulfilClient
{
    private const string SaleLineReferencePrefix = "sale.line,";

    public async Task<IReadOnlyList<FulfilStamp>> GetModifiedAsync(FulfilModifiedQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var domain = ModifiedDomain(query);
        var stamp = StampFieldName(query.Stamp);
        var fields = query.RefField is null ? new[] { "id", stamp } : ["id", stamp, query.RefField];
        var order = new object[] { new[] { stamp, "ASC" }, new[] { "id", "ASC" } };
        var rows = await _http.SearchReadAsync<JsonElement>(query.Model, domain, 0, query.Limit, fields, order: order, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows
            .Select(r => new FulfilStamp(r.Id(), r.DateTime(stamp) ?? DateTime.MinValue, query.RefField is null ? null : r.IntOrNull(query.RefField)))
            .ToList();
    }

    public Task<int> CountModifiedAsync(FulfilModifiedQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _http.SearchCountAsync(query.Model, ModifiedDomain(query), cancellationToken);
    }

    private static string StampFieldName(FulfilStampField stamp) => stamp == FulfilStampField.CreateDate ? "create_date" : "write_date";

    private static List<object?> ModifiedDomain(FulfilModifiedQuery query)
    {
        ArgumentException.ThrowIfNullOrEmpty(query.Model);
        var domain = new List<object?>(query.Domain ?? []);
        var stamp = StampFieldName(query.Stamp);
        // The split on an empty write_date keeps the two walks disjoint: an edit moves a record from the create-date
        // walk to the write-date walk, where its new write_date is past that walk's cursor.
        domain.Add(new object?[] { "write_date", query.Stamp == FulfilStampField.CreateDate ? "=" : "!=", null });
        if (query.After is { } after)
        {
            // Keyset: (stamp, id) strictly after the cursor, so equal timestamps never stall or repeat the walk.
            domain.Add(new object[]
            {
                "OR",
                new object[] { stamp, ">", after.WriteDate },
                new object[] { new object[] { stamp, "=", after.WriteDate }, new object[] { "id", ">", after.Id } },
            });
        }

        return domain;
    }

    public async Task<IReadOnlyList<FulfilProduct>> GetProductsByIdsAsync(IReadOnlyCollection<int> productIds, CancellationToken cancellationToken = default)
    {
        var rows = await ReadByIdsAsync(Product, productIds, ProductFields, archivedToo: true, cancellationToken).ConfigureAwait(false);
        return rows.Select(ToProduct).ToList();
    }

    public async Task<IReadOnlyList<FulfilProductTemplate>> GetProductTemplatesByIdsAsync(IReadOnlyCollection<int> templateIds, CancellationToken cancellationToken = default)
    {
        var rows = await ReadByIdsAsync("product.template", templateIds, ["id", "name", "list_price", "active", "write_date"], archivedToo: true, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new FulfilProductTemplate(r.Id(), r.Str("name"), r.DecOrNull("list_price"), r.Bool("active", true), r.DateTime("write_date"))).ToList();
    }

    public async Task<IReadOnlyList<FulfilParty>> GetPartiesByIdsAsync(IReadOnlyCollection<int> partyIds, CancellationToken cancellationToken = default)
    {
        var rows = await ReadByIdsAsync("party.party", partyIds, ["id", "name", "code", "active", "write_date"], archivedToo: true, cancellationToken).ConfigureAwait(false);
        var contacts = await ContactsOfAsync(rows.Select(r => r.Id()).ToArray(), cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new FulfilParty(r.Id(), r.Str("name"), r.Str("code"), r.Bool("active", true), r.DateTime("write_date"))
        {
            Email = contacts.GetValueOrDefault(r.Id()).Email,
            Phone = contacts.GetValueOrDefault(r.Id()).Phone,
        }).ToList();
    }

    public async Task<IReadOnlyList<FulfilSaleSnapshot>> GetSaleSnapshotsByIdsAsync(IReadOnlyCollection<int> saleIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(saleIds);
        var result = new List<FulfilSaleSnapshot>();
        foreach (var chunk in saleIds.Distinct().Chunk(Math.Max(1, _options.PageSize)))
        {
            result.AddRange(await SearchSaleSnapshotsAsync([new object[] { "id", "in", chunk }], cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public async Task<IReadOnlyList<FulfilSaleSnapshot>> GetReturnSalesAsync(IReadOnlyCollection<int> originSaleIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(originSaleIds);
        var result = new List<FulfilSaleSnapshot>();
        foreach (var chunk in originSaleIds.Distinct().Chunk(Math.Max(1, _options.PageSize)))
        {
            result.AddRange(await SearchSaleSnapshotsAsync([new object[] { _options.ReturnOriginSaleField, "in", chunk }], cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public async Task<IReadOnlyList<FulfilOutgoingMove>> GetOutgoingMovesAsync(IReadOnlyCollection<int> saleLineIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(saleLineIds);
        var origin = _options.MoveOriginField;
        var result = new List<FulfilOutgoingMove>();
        foreach (var chunk in saleLineIds.Distinct().Chunk(Math.Max(1, _options.PageSize)))
        {
            var references = chunk.Select(id => SaleLineReferencePrefix + id.ToString(CultureInfo.InvariantCulture)).ToArray();
            var domain = new object[]
            {
                new object[] { origin, "in", references },
                new object[] { "state", "=", "done" },
                new object[] { "to_location.type", "=", "customer" },
            };
            var rows = await _http.SearchReadAllAsync<JsonElement>("stock.move", domain, ["id", origin, "quantity", "shipment", "from_location", "effective_date"], cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var row in rows)
            {
                var reference = row.Str(origin);
                if (reference is not null && reference.StartsWith(SaleLineReferencePrefix, StringComparison.Ordinal)
                    && int.TryParse(reference.AsSpan(SaleLineReferencePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var lineId))
                {
                    result.Add(new FulfilOutgoingMove(row.Id(), lineId, row.Dec("quantity"), row.Str("shipment"), row.IntOrNull("from_location"), row.Date("effective_date")));
                }
            }
        }

        return result;
    }

    public async Task<IReadOnlyList<FulfilLocationNode>> GetAllLocationsAsync(CancellationToken cancellationToken = default)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(
            "stock.location",
            [ActiveOrArchived],
            ["id", "code", "name", "type", "parent", "storage_location", "active", "write_date"],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new FulfilLocationNode(
            r.Id(), r.Str("code") ?? "", r.Str("name") ?? "", r.Str("type") ?? "", r.IntOrNull("parent"), r.IntOrNull("storage_location"), r.Bool("active", true), r.DateTime("write_date"))).ToList();
    }

    private async Task<IReadOnlyList<JsonElement>> ReadByIdsAsync(string model, IReadOnlyCollection<int> ids, string[] fields, bool archivedToo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var rows = new List<JsonElement>();
        foreach (var chunk in ids.Distinct().Chunk(Math.Max(1, _options.PageSize)))
        {
            IReadOnlyList<object?> domain = archivedToo ? [new object[] { "id", "in", chunk }, ActiveOrArchived] : [new object[] { "id", "in", chunk }];
            rows.AddRange(await _http.SearchReadAllAsync<JsonElement>(model, domain, fields, cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    private async Task<IReadOnlyList<FulfilSaleSnapshot>> SearchSaleSnapshotsAsync(IReadOnlyList<object?> domain, CancellationToken cancellationToken)
    {
        var originSale = _options.ReturnOriginSaleField;
        var originLine = _options.ReturnOriginLineField;
        string[] fields = ["id", "reference", "number", "state", "party", "shipment_address", "invoice_address", "channel", "channel_identifier", "priority", "warehouse", "sale_date", "total_amount", "create_date", "write_date", originSale, _options.ReturnShipmentsField];
        var rows = await _http.SearchReadAllAsync<JsonElement>(Sale, domain, fields, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return [];
        }

        var lineRows = await _http.SearchReadAllAsync<JsonElement>(SaleLine, [new object[] { "sale", "in", rows.Select(r => r.Id()).ToArray() }], [.. LineFields, originLine], cancellationToken: cancellationToken).ConfigureAwait(false);
        var linesBySale = lineRows.ToLookup(r => r.IntOrNull("sale"));
        var addresses = await PostalAddressesAsync(rows.SelectMany(r => new[] { r.IntOrNull("shipment_address"), r.IntOrNull("invoice_address") }).OfType<int>().ToArray(), cancellationToken).ConfigureAwait(false);
        var shipmentIds = rows.Where(r => r.IntOrNull(originSale) is not null).SelectMany(r => r.Ids(_options.ReturnShipmentsField)).Distinct().ToArray();
        var shipmentStates = shipmentIds.Length == 0 ? new Dictionary<int, string>() : (await _http.SearchReadAllAsync<JsonElement>(ReturnShipment, [new object[] { "id", "in", shipmentIds }], ["id", "state"], cancellationToken: cancellationToken).ConfigureAwait(false))
            .ToDictionary(s => s.Id(), s => s.Str("state") ?? "");
        return rows.Select(r =>
        {
            var lines = linesBySale[r.Id()].ToList();
            var sale = new FulfilSale(
                r.Id(), r.Str("reference"), r.Str("number"), r.Str("state") ?? "", r.IntOrNull("party"), r.IntOrNull("shipment_address"), r.IntOrNull("invoice_address"),
                r.IntOrNull("channel"), r.Str("channel_identifier"), r.Str("priority"), r.IntOrNull("warehouse"), r.Date("sale_date"), r.DecOrNull("total_amount"),
                lines.Select(ToSaleLine).ToList(), []);
            var origins = lines.Where(l => l.IntOrNull(originLine) is not null).ToDictionary(l => l.Id(), l => l.IntOrNull(originLine)!.Value);
            var originSaleId = r.IntOrNull(originSale);
            return new FulfilSaleSnapshot(sale, r.DateTime("create_date"), r.DateTime("write_date"), originSaleId is not null, originSaleId, origins)
            {
                ShipmentAddress = r.IntOrNull("shipment_address") is { } ship ? addresses.GetValueOrDefault(ship) : null,
                InvoiceAddress = r.IntOrNull("invoice_address") is { } invoice ? addresses.GetValueOrDefault(invoice) : null,
                Withdrawn = originSaleId is not null && r.Ids(_options.ReturnShipmentsField) is { Count: > 0 } shipments
                    && shipments.All(s => shipmentStates.GetValueOrDefault(s) == "cancelled"),
            };
        }).ToList();
    }
}
