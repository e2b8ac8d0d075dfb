using System.Globalization;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Sandbox.Fulfil;

namespace LoopFulfil.Tests.CommerceSync;

/// <summary>
/// Issue #15 item 8: the commerce push must not stop customers returning. The simulated Loop answers as its customer
/// portal would (<c>WhyNotReturnable</c>: an active, fulfilled order found by name and the customer's email or the
/// shipping postal code), so an archived done order, a customer without email or an order without address fails here.
/// </summary>
public sealed class ReturnableOrderPushTests
{
    [Fact]
    public async Task Done_order_pushed_with_the_customers_email_and_phone_is_found_by_loops_order_lookup()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var sale = SaleId(h.Fulfil, "#1001");
        var party = h.Fulfil.State.Get("sale.sale", sale).Ref("party")!.Value;
        h.Fulfil.State.AddContact(party, "phone", "+1 555 0100");
        h.Fulfil.State.ShipSale(sale);
        Assert.Equal("done", h.Fulfil.State.Get("sale.sale", sale).State);

        await h.RunAsync(SyncMode.Backfill);

        Assert.Null(h.Loop.WhyNotReturnable("#1001", "a@example.com"));
        var customer = h.Loop.GetCommerceRecord("customers", Id(party))!;
        Assert.Equal(("a@example.com", "+1 555 0100"), (customer["email"]!.ToString(), customer["phone"]!.ToString()));
    }

    [Fact]
    public async Task Order_pushed_with_its_shipping_address_is_found_by_the_postal_code()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var party = h.Fulfil.State.AddParty("Postcode Customer");
        var address = h.Fulfil.State.AddAddress(party, "Postcode Customer", "5 Harbour Lane\nFlat 2", "Portland", "04101", "US");
        var sale = h.Fulfil.State.AddSale("#7001", "5550007001", party, "done", ("TEE-BLK-M", 1m, 25.00m));
        h.Fulfil.State.SetSaleAddress(sale, address);
        h.Fulfil.State.ShipSale(sale);

        await h.RunAsync(SyncMode.Backfill);

        Assert.Null(h.Loop.WhyNotReturnable("#7001", "04101"));
        var shipTo = h.Loop.GetCommerceRecord("orders", Id(sale))!["shipping_address"]!;
        Assert.Equal(("5 Harbour Lane", "Flat 2", "Portland", "US"), (shipTo["address1"]!.ToString(), shipTo["address2"]!.ToString(), shipTo["city"]!.ToString(), shipTo["country_code"]!.ToString()));
        Assert.NotNull(h.Loop.GetCommerceRecord("orders", Id(sale))!["billing_address"]);
    }

    [Fact]
    public async Task Inventory_sent_to_loop_is_available_stock_so_units_promised_to_orders_are_not_offered()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        const string sku = "TEE-BLK-L";
        await h.RunAsync(SyncMode.Backfill);
        var onHand = h.Fulfil.State.StockOf(sku, FulfilSandboxDemo.SellableLocationCode);

        h.Fulfil.State.ReserveStock(sku, FulfilSandboxDemo.SellableLocationCode, 4m);
        await h.RunAsync(SyncMode.Incremental);

        var product = h.Fulfil.State.ProductId(sku);
        var variant = h.Loop.GetCommerceRecord("variants", Id(product))!["id"]!.ToString();
        var location = h.Loop.GetCommerceRecord("locations", Id(FulfilSandboxDemo.WarehouseId))!["id"]!.ToString();
        Assert.Equal((long)(onHand - 4m), h.Loop.InventoryCount(variant, location));
        Assert.Equal(onHand - 4m, h.Fulfil.State.AvailableOf(sku, FulfilSandboxDemo.SellableLocationCode));
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static int SaleId(FulfilSandbox fulfil, string reference) =>
        fulfil.State.Where("sale.sale", s => Equals(s.GetValueOrDefault("reference"), reference))[0].Id;
}
