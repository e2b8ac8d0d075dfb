using System.Text.Json;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Tests.Loop;

public class LoopFixtureTests
{
    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi, int s) => new(y, mo, d, h, mi, s, TimeSpan.Zero);

    // Every fixture file and the check that proves it parses with the expected values.
    private static readonly Dictionary<string, Action<byte[]>> Checks = new(StringComparer.Ordinal)
    {
        ["return-created.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(("return", "return.created", "7100001", "open"), (r.Topic, r.Trigger, r.Id, r.State));
            Assert.Equal(("#1001", "5100001", "3100001", "USD"), (r.OrderName, r.OrderId, r.ProviderOrderId, r.Currency));
            Assert.Equal(Utc(2026, 11, 2, 9, 15, 0), r.CreatedAt);
            Assert.Equal((25.00m, 0m, 2.00m, 27.00m, 27.00m), (r.ReturnProductTotal, r.ReturnDiscountTotal, r.ReturnTaxTotal, r.ReturnTotal, r.Refund));
            Assert.Equal("New York", r.Address?.City);
            var line = Assert.Single(r.LineItems);
            Assert.Equal(("8100001", "9100001", "TEE-BLK/M", 25.00m, 2.00m, 27.00m), (line.LineItemId, line.ProviderLineItemId, line.Sku, line.Price, line.Tax, line.Refund));
            Assert.Equal(Utc(2026, 11, 2, 9, 15, 0), line.ReturnedAt);
            Assert.Equal("default", line.Outcome);
            Assert.Empty(r.Exchanges);
            Assert.Empty(r.Refunds);
        },
        ["return-updated-closed.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(("return.updated", "closed", "USPS", "new"), (r.Trigger, r.State, r.Carrier, r.LabelStatus));
            var refund = Assert.Single(r.Refunds);
            Assert.Equal(("manual", 27.00m), (refund.Gateway, refund.Amount));
            Assert.Equal(Utc(2026, 11, 2, 9, 15, 5), r.LabelUpdatedAt);
        },
        ["returns-list-item.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(("7100002", "exchange", "prepaid_label", "67896541368765"), (r.Id, r.Outcome, r.ReturnMethod, r.DestinationId));
            Assert.Equal((164.58m, 101.28m, 101.28m, 4.50m), (r.ReturnTotal, r.ExchangeTotal, r.ReturnCreditTotal, r.LabelRate));
            Assert.Null(r.GiftCardOrderName);
            Assert.Equal(new DateTimeOffset(2023, 1, 1, 22, 27, 15, TimeSpan.Zero), r.CreatedAt);
            Assert.Equal(new DateTimeOffset(2023, 1, 3, 22, 34, 17, TimeSpan.Zero), r.EditedAt);
            Assert.Empty(r.LineItems);
        },
        ["returns-list-page.json"] = b =>
        {
            var page = LoopJson.Deserialize<LoopReturnListPage>(b);
            Assert.Equal("7100002", Assert.Single(page.Returns).Id);
            Assert.Contains("cursor=eyJ", page.NextPageUrl, StringComparison.Ordinal);
            Assert.Null(page.PreviousPageUrl);
        },
        ["return-numeric-ids.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(("7100003", "9876", "5100003", "3100003", "1003"), (r.Id, r.ShopId, r.OrderId, r.ProviderOrderId, r.OrderNumber));
            Assert.Equal(30.0m, r.Total);
            var line = Assert.Single(r.LineItems);
            Assert.Equal(("8200001", "9200001", "6100003", "6200003"), (line.LineItemId, line.ProviderLineItemId, line.ProductId, line.VariantId));
        },
        ["return-exchange-original-order.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            var exchange = Assert.Single(r.Exchanges);
            Assert.Equal((r.OrderName, r.ProviderOrderId), (exchange.ExchangeOrderName, exchange.ExchangeOrderId));
            Assert.False(exchange.IsSeparateOrder);
            Assert.False(exchange.OutOfStock);
            Assert.Equal(("MUG:12OZ", 18.00m, 18.00m), (exchange.Sku, exchange.Price, exchange.Total));
            Assert.Equal("6200009", r.LineItems[0].ExchangeVariant);
            Assert.Equal((0m, 18.00m), (r.Refund, r.ExchangeCreditTotal));
        },
        ["return-exchange-separate-order.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            var exchange = Assert.Single(r.Exchanges);
            Assert.Equal(("EXC-1005-1", "3900005"), (exchange.ExchangeOrderName, exchange.ExchangeOrderId));
            Assert.True(exchange.IsSeparateOrder);
            Assert.False(exchange.OutOfStock);
            Assert.Equal("", exchange.OutOfStockResolution);
            Assert.Equal((25.00m, 7.00m), (r.ExchangeTotal, r.Upsell));
        },
        ["return-gift-card.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(("credit", 25.00m, 0m), (r.Outcome, r.GiftCard, r.Refund));
            Assert.Equal(("#1002-GC", "3100102"), (r.GiftCardOrderName, r.GiftCardOrderId));
        },
        ["return-duplicate-line-item.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(2, r.LineItems.Count);
            Assert.Equal(r.LineItems[0].LineItemId, r.LineItems[1].LineItemId);
            Assert.Equal("9200099", r.LineItems[1].ProviderLineItemId);
            Assert.Equal(36.00m, r.ReturnTotal);
        },
        ["return-timestamps-without-zone.json"] = b =>
        {
            var r = LoopJson.Deserialize<LoopReturn>(b);
            Assert.Equal(Utc(2026, 11, 4, 16, 7, 31), r.CreatedAt);
            Assert.Equal(TimeSpan.Zero, r.CreatedAt!.Value.Offset);
            Assert.Equal(Utc(2026, 11, 4, 17, 0, 0), r.EditedAt);
            Assert.Equal(Utc(2026, 11, 4, 17, 30, 0), r.UpdatedAt);
            Assert.Equal(Utc(2026, 11, 4, 16, 7, 33), r.LabelUpdatedAt);
            Assert.Equal(Utc(2026, 11, 4, 16, 7, 31), r.LineItems[0].ReturnedAt);
        },
        ["return-processing-failed.json"] = b =>
        {
            var e = LoopJson.Deserialize<LoopReturnProcessingFailed>(b);
            Assert.Equal(("return.processing", "return.processing.failed", "1673", "open", "api"), (e.Topic, e.Trigger, e.ReturnId, e.ReturnState, e.Source));
            Assert.Equal("Exchange order could not be created.", e.Message);
        },
        ["restock-requested-numbers.json"] = b => AssertRestock(LoopJson.Deserialize<LoopRestockEvent>(b)),
        ["restock-requested-strings.json"] = b => AssertRestock(LoopJson.Deserialize<LoopRestockEvent>(b)),
        ["giftcard-requested-bonus.trailing-comma.txt"] = b =>
        {
            var g = LoopJson.Deserialize<LoopGiftCardEvent>(b);
            AssertGiftCard(g, "12345");
            Assert.Equal((1.00m, null), (g.GiftCardBonus, g.GiftCardBonusCredit));
            Assert.Equal(1.00m, g.BonusCredit);
        },
        ["giftcard-requested-bonus-credit.trailing-comma.txt"] = b =>
        {
            var g = LoopJson.Deserialize<LoopGiftCardEvent>(b);
            AssertGiftCard(g, "12345");
            Assert.Equal((null, 1.00m), (g.GiftCardBonus, g.GiftCardBonusCredit));
            Assert.Equal(1.00m, g.BonusCredit);
        },
        ["giftcard-requested-out-of-stock.json"] = b =>
        {
            var g = LoopJson.Deserialize<LoopGiftCardEvent>(b);
            AssertGiftCard(g, null);
            Assert.Equal(1.00m, g.BonusCredit);
        },
        ["label-updated-with-id.json"] = b =>
        {
            var l = LoopJson.Deserialize<LoopLabelEvent>(b);
            Assert.Equal(("12345", "9876", "1029384756", "in_transit", "6789998212"), (l.LoopReturnId, l.ShopId, l.ProviderOrderId, l.LabelStatus, l.ShipmentId));
            Assert.Equal(new DateTimeOffset(2019, 4, 1, 12, 0, 0, TimeSpan.Zero), l.LabelUpdatedAt);
        },
        ["label-updated-with-return-id.json"] = b =>
        {
            var l = LoopJson.Deserialize<LoopLabelEvent>(b);
            Assert.Null(l.Id);
            Assert.Equal(("12345", "USPS", "28735625627856237856287"), (l.LoopReturnId, l.Carrier, l.TrackingNumber));
        },
        ["label-request-issued.json"] = b =>
        {
            var l = LoopJson.Deserialize<LoopLabelRequestEvent>(b);
            Assert.Equal(("67329889100573", "1001", "issued"), (l.Id, l.ReturnId, l.Status));
            Assert.Equal(("Columbus", "43210", "US"), (l.Addresses?.Destination?.City, l.Addresses?.Destination?.PostalCode, l.Addresses?.Destination?.CountryCode));
            Assert.Null(l.Addresses?.Origin?.Company);
            Assert.Equal((20.2m, 650m), (l.Parcel?.Length, l.Parcel?.Weight));
            var product = Assert.Single(l.Products);
            Assert.Equal(("SHOES-BLU-10", 9500L, "USD"), (product.Sku, product.Price?.Amount, product.Price?.Currency));
            Assert.Equal(new DateTimeOffset(2023, 4, 25, 13, 25, 0, TimeSpan.FromHours(-5)), l.CreatedAt);
        },
        ["commerce-customer-upsert-request.json"] = b =>
        {
            var c = LoopJson.Deserialize<LoopCustomerUpsert>(b);
            Assert.Equal(("CUST-1001", "fulfil", "customer@example.com"), (c.ExternalId, c.Channel, c.Email));
            Assert.Equal(["demo"], c.Tags!);
            AssertRoundTripsWithSameFields(b, c);
        },
        ["commerce-customer-response.json"] = b =>
        {
            var c = LoopJson.Deserialize<LoopCustomer>(b);
            Assert.Equal(("5550001", "CUST-1001", "Alex"), (c.Id, c.ExternalId, c.FirstName));
        },
        ["commerce-inventory-request.json"] = b =>
        {
            using var doc = JsonDocument.Parse(b);
            Assert.Equal(14, doc.RootElement.GetProperty("available_count").GetInt64());
        },
        ["commerce-inventory-response.json"] = b =>
        {
            var i = LoopJson.Deserialize<LoopInventory>(b);
            Assert.Equal(14, i.AvailableCount);
            Assert.Equal(("700123", "TEE-BLK/M", 180), (i.ProductVariant[0].Id, i.ProductVariant[0].ExternalId, i.ProductVariant[0].WeightGrams));
            var location = Assert.Single(i.Location);
            Assert.Equal(("800456", "WH-MAIN", "Columbus"), (location.Id, location.ExternalId, location.Address?.City));
        },
        ["commerce-location-upsert-request.json"] = b =>
        {
            var l = LoopJson.Deserialize<LoopLocationUpsert>(b);
            Assert.Equal(("WH-MAIN", "Main warehouse", "active", "Columbus", "US"), (l.ExternalId, l.Name, l.Status, l.Address.City, l.Address.CountryCode));
            AssertRoundTripsWithSameFields(b, l);
        },
        ["commerce-location-response.json"] = b =>
        {
            var l = LoopJson.Deserialize<LoopLocation>(b);
            Assert.Equal(("800456", "WH-MAIN", "Example Co", "43210"), (l.Id, l.ExternalId, l.Address?.Company, l.Address?.PostalCode));
        },
        ["commerce-product-upsert-request.json"] = b =>
        {
            var p = LoopJson.Deserialize<LoopProductUpsert>(b);
            Assert.Equal(("TEE", "Tee", 10000L, 123), (p.ExternalId, p.Name, p.Price, p.WeightGrams));
            Assert.Equal(new DateTimeOffset(2023, 11, 7, 5, 31, 56, TimeSpan.Zero), p.CreatedAt);
            Assert.Equal(["M"], p.Options![0].Values!);
            AssertRoundTripsWithSameFields(b, p);
        },
        ["commerce-variant-upsert-request.json"] = b =>
        {
            var v = LoopJson.Deserialize<LoopVariantUpsert>(b);
            Assert.Equal(("TEE-BLK/M", 50000L, "USD"), (v.ExternalId, v.Price?.Amount, v.Price?.CurrencyCode));
            Assert.Equal(500.00m, v.Price!.ToDecimal());
            Assert.Equal(("6109.10", true, "CA"), (v.LogisticsInformation?.DefaultHsCode, v.LogisticsInformation?.RequiresShipping, v.LogisticsInformation?.DestinationCountryHsCodes?[0].DestinationCountryCode));
            Assert.Equal(123m, v.Dimensions?.Depth);
            AssertRoundTripsWithSameFields(b, v);
        },
        ["destination-create-request.json"] = b =>
        {
            var d = LoopJson.Deserialize<LoopDestination>(b);
            Assert.Equal(("warehouse", true, "Ohio", "43210"), (d.Type, d.Enabled, d.Address?.State, d.Address?.Zip));
            Assert.Null(d.Id);
        },
        ["destination-create-response.json"] = b =>
        {
            var d = LoopJson.Deserialize<LoopDestination>(b);
            Assert.Equal(("1", "Example Destination", "US"), (d.Id, d.Name, d.Address?.CountryCode));
        },
        ["webhooks-list.json"] = b =>
        {
            using var doc = JsonDocument.Parse(b);
            var hooks = doc.RootElement.GetProperty("webhooks").Deserialize<List<LoopWebhookSubscription>>(LoopJson.Options)!;
            Assert.Equal(("12345", "65432", "active"), (hooks[0].Id, hooks[0].ShopId, hooks[0].Status));
            Assert.Equal(("12346", "return.closed", "inactive"), (hooks[1].Id, hooks[1].Trigger, hooks[1].Status));
        },
        ["return-notes.json"] = b =>
        {
            using var doc = JsonDocument.Parse(b);
            var notes = doc.RootElement.GetProperty("notes").Deserialize<List<LoopReturnNote>>(LoopJson.Options)!;
            Assert.Equal(("501", Utc(2026, 11, 5, 8, 0, 0)), (notes[0].Id, notes[0].CreatedAt));
            Assert.Equal(("502", Utc(2026, 11, 5, 8, 5, 0)), (notes[1].Id, notes[1].CreatedAt));
        },
        ["action-error-flagged.json"] = b =>
        {
            using var doc = JsonDocument.Parse(b);
            Assert.Equal("UNPROCESSABLE_FLAGGED_RETURN", doc.RootElement.GetProperty("errors").GetProperty("code").GetString());
        },
        ["error-unauthorized.json"] = b =>
        {
            using var doc = JsonDocument.Parse(b);
            Assert.Equal("GEN-UNAUTHORIZED", doc.RootElement.GetProperty("error").GetProperty("http_code").GetString());
        },
    };

    public static TheoryData<string> FixtureNames() => [.. Checks.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Fixture_parses_with_the_expected_values(string name) => Checks[name](LoopFixtures.Bytes(name));

    [Fact]
    public void Every_fixture_file_has_a_parse_check()
    {
        var files = Directory.GetFiles(LoopFixtures.Directory)
            .Select(Path.GetFileName)
            .Where(n => n is not "README.md")
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(Checks.Keys.Order(StringComparer.Ordinal).ToArray(), files);
    }

    [Fact]
    public void Published_gift_card_samples_are_not_strict_json_but_the_loop_options_accept_them()
    {
        var bytes = LoopFixtures.Bytes("giftcard-requested-bonus-credit.trailing-comma.txt");

        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(bytes));
        Assert.Equal(23.50m, LoopJson.Deserialize<LoopGiftCardEvent>(bytes).TotalCreditIssued);
    }

    private static void AssertRestock(LoopRestockEvent e)
    {
        Assert.Equal(("restock", "restock.requested", "12345", "1234567890", "1029384756"), (e.Topic, e.Trigger, e.Id, e.OrderId, e.ProviderOrderId));
        var item = Assert.Single(e.RestockItems);
        Assert.Equal(("10123456789", "459875465", "10987654321", 1, "shopify"), (item.LocationId, item.VariantId, item.InventoryItemId, item.AvailableAdjustment, item.InventoryManagement));
    }

    private static void AssertGiftCard(LoopGiftCardEvent g, string? id)
    {
        Assert.Equal(("giftcard", "giftcard.requested", id), (g.Topic, g.Trigger, g.Id));
        Assert.Equal((23.50m, 25.00m, 0.50m, "USD"), (g.TotalCreditIssued, g.GiftCardSubtotal, g.GiftCardTax, g.Currency));
        Assert.Equal(("23456", "1234567890", "#2234", "1234"), (g.ReturnId, g.ExternalOrderId, g.ExternalOrderName, g.ExternalOrderNumber));
    }

    // A request model must write back every field the documented request carries, under the same names.
    private static void AssertRoundTripsWithSameFields<T>(byte[] original, T model)
    {
        using var expected = JsonDocument.Parse(original);
        using var actual = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(model, LoopJson.Options));
        Assert.Equal(FieldPaths(expected.RootElement, ""), FieldPaths(actual.RootElement, ""));
    }

    private static SortedSet<string> FieldPaths(JsonElement element, string prefix)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in element.EnumerateObject())
            {
                paths.Add(prefix + p.Name);
                paths.UnionWith(FieldPaths(p.Value, prefix + p.Name + "."));
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                paths.UnionWith(FieldPaths(item, prefix + "[]."));
            }
        }

        return paths;
    }
}
