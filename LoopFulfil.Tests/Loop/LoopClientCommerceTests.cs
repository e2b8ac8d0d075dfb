using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Tests.Loop;

public class LoopClientCommerceTests
{
    private static readonly LoopCommerceAddress Warehouse = new() { Name = "Receiving", Address1 = "1 Example Street", City = "Columbus", Region = "OH", PostalCode = "43210", CountryCode = "US" };

    [Fact]
    public async Task Catalog_location_customer_and_inventory_upserts_get_loop_ids_that_stay_stable()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var ct = CancellationToken.None;

        var location = await h.Client.UpsertLocationAsync(new LoopLocationUpsert { ExternalId = "WH-MAIN", Name = "Main warehouse", Address = Warehouse }, ct);
        var customer = await h.Client.UpsertCustomerAsync(new LoopCustomerUpsert { ExternalId = "CUST-1001", Email = "customer@example.com", Channel = "fulfil" }, ct);
        var product = await h.Client.UpsertProductAsync(new LoopProductUpsert { ExternalId = "TEE", Name = "Tee", Price = 2500 }, ct);
        var variant = await h.Client.UpsertVariantAsync("TEE", new LoopVariantUpsert { ExternalId = "TEE-BLK/M", Name = "Black / M", Sku = "TEE-BLK/M", Price = LoopMoney.FromDecimal(25.00m, "USD") }, ct);
        var inventory = await h.Client.SetInventoryAsync(variant.Id!, location.Id!, 14, ct);
        var productAgain = await h.Client.UpsertProductAsync(new LoopProductUpsert { ExternalId = "TEE", Name = "Tee (renamed)" }, ct);

        Assert.All(new[] { location.Id, customer.Id, product.Id, variant.Id }, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(("WH-MAIN", "Columbus"), (location.ExternalId, location.Address?.City));
        Assert.Equal(product.Id, variant.Product?.Id);
        Assert.Equal(product.Id, productAgain.Id);
        Assert.Equal("Tee (renamed)", productAgain.Name);
        Assert.Equal(14, inventory.AvailableCount);
        Assert.Equal((variant.Id, location.Id), (inventory.ProductVariant[0].Id, inventory.Location[0].Id));
        Assert.Equal("Columbus", inventory.Location[0].Address?.City);
        Assert.Equal(14, h.Sandbox.InventoryCount(variant.Id!, location.Id!));
        Assert.Equal(2500, h.Sandbox.GetCommerceRecord("variants", "TEE-BLK/M")?["price"]?["amount"]?.GetValue<long>());
        Assert.Equal((2, 1, 1, 1, 1), (h.Sandbox.CommerceWriteCount("products"), h.Sandbox.CommerceWriteCount("variants"),
            h.Sandbox.CommerceWriteCount("locations"), h.Sandbox.CommerceWriteCount("customers"), h.Sandbox.CommerceWriteCount("inventories")));
    }

    [Fact]
    public async Task Order_upsert_sends_minor_units_by_currency_and_rfc3339_created_at()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var ct = CancellationToken.None;
        var product = await h.Client.UpsertProductAsync(new LoopProductUpsert { ExternalId = "MUG", Name = "Mug" }, ct);
        var variant = await h.Client.UpsertVariantAsync("MUG", new LoopVariantUpsert { ExternalId = "MUG:12OZ", Name = "12 oz" }, ct);
        var createdAt = new DateTimeOffset(2026, 11, 2, 9, 15, 0, TimeSpan.FromHours(-5));

        var order = await h.Client.UpsertOrderAsync(new LoopOrderUpsert
        {
            ExternalId = "SO-1001",
            Name = "#1001",
            Status = LoopOrderStatusMap.FromFulfilSaleState("processing"),
            Customer = LoopIdReference.ByExternalId("CUST-1001"),
            TotalPrice = LoopMoney.FromDecimal(1200m, "JPY"),
            TotalTaxes = LoopMoney.FromDecimal(12.345m, "KWD"),
            LineItems =
            [
                new LoopOrderLineItem
                {
                    ExternalId = "SO-1001-1",
                    Product = LoopIdReference.ByLoopId(product.Id!),
                    ProductVariant = LoopIdReference.ByLoopId(variant.Id!),
                    Quantity = 2,
                    UnitPrice = LoopMoney.FromDecimal(18.00m, "USD"),
                },
            ],
            CreatedAt = createdAt,
        }, ct);

        Assert.Equal(("SO-1001", "#1001", "active"), (order.ExternalId, order.Name, order.Status));
        var stored = h.Sandbox.GetCommerceRecord("orders", "SO-1001")!;
        Assert.Equal("2026-11-02T09:15:00-05:00", stored["created_at"]!.GetValue<string>());
        Assert.Equal(1200, stored["total_price"]!["amount"]!.GetValue<long>());
        Assert.Equal(12345, stored["total_taxes"]!["amount"]!.GetValue<long>());
        Assert.Equal(1800, stored["line_items"]![0]!["unit_price"]!["amount"]!.GetValue<long>());
        Assert.Equal(long.Parse(variant.Id!, System.Globalization.CultureInfo.InvariantCulture), stored["line_items"]![0]!["product_variant"]!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task Order_line_with_an_unknown_variant_is_a_permanent_rejection()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var order = new LoopOrderUpsert
        {
            ExternalId = "SO-1002",
            Name = "#1002",
            LineItems = [new LoopOrderLineItem { ExternalId = "SO-1002-1", ProductVariant = LoopIdReference.ByLoopId("424242"), Quantity = 1 }],
            CreatedAt = DateTimeOffset.UnixEpoch,
        };

        var error = await Assert.ThrowsAsync<LoopRequestRejectedException>(() => h.Client.UpsertOrderAsync(order, CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, error.StatusCode);
        Assert.Contains("line_items.0", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Sandbox.CommerceWriteCount("orders"));
    }

    [Fact]
    public async Task Variant_of_an_unknown_product_is_not_found()
    {
        await using var h = await LoopTestHarness.StartAsync();

        await Assert.ThrowsAsync<LoopNotFoundException>(() =>
            h.Client.UpsertVariantAsync("NO-SUCH-PRODUCT", new LoopVariantUpsert { ExternalId = "X", Name = "X" }, CancellationToken.None));
    }

    [Fact]
    public async Task Webhook_subscription_is_created_active_and_listed()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var url = new Uri("https://bridge.example.com/loop/webhooks");

        var created = await h.Client.CreateWebhookAsync("return", "return.closed", url, CancellationToken.None);
        var listed = await h.Client.ListWebhooksAsync(CancellationToken.None);

        Assert.Equal(("return", "return.closed", url.AbsoluteUri, "active"), (created.Topic, created.Trigger, created.Url, created.Status));
        Assert.Equal(created.Id, Assert.Single(listed).Id);
    }

    [Fact]
    public async Task Active_subscriptions_receive_the_events_they_subscribed_to()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var h = await LoopTestHarness.StartAsync();
        await h.Client.CreateWebhookAsync("return", "return.updated", receiver.Url, CancellationToken.None);
        var id = h.Sandbox.AddReturn(Builders.LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: true);

        await h.Client.FlagReturnAsync(id, CancellationToken.None);

        var delivery = await h.Sandbox.WaitForWebhookAsync(d => d.Trigger == "return.updated", TimeSpan.FromSeconds(15));
        Assert.Equal(receiver.Url, delivery.Url);
        Assert.DoesNotContain(h.Sandbox.WebhookDeliveries, d => d.Trigger == "return.created");
    }
}
