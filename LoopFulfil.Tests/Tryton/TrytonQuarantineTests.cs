using System.Text.Json;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// Issue #15 item 10 on the real engine: stock per location read from Tryton. Tryton's rules exercised: a customer
/// return shipment's incoming moves go customer → warehouse input; after <c>receive</c> its inventory moves are
/// editable and may go only under the warehouse storage or to one of its waste locations (stock 6.0
/// <c>ShipmentOutReturn.inventory_moves</c> domain); an internal shipment moves only what its source holds.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonQuarantineTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    [Fact]
    public async Task Delivered_parcel_is_received_into_the_waste_location_quarantine_and_only_inspection_moves_it_to_storage()
    {
        await using var h = await StartAsync();
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", (Tee, 2m, Price));
        var r = new OutcomeReturn(orderName, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)).WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(2))).AddTo(h.Loop);
        var sellable = await h.Stock(Tee, TrytonEngine.Codes.Sellable);
        var quarantine = await h.Stock(Tee, TrytonEngine.Codes.Quarantine);
        var damaged = await h.Stock(Tee, TrytonEngine.Codes.Damaged);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.LabelUpdated("delivered"));

        Assert.Equal(quarantine + 2, await h.Stock(Tee, TrytonEngine.Codes.Quarantine));
        Assert.Equal(sellable, await h.Stock(Tee, TrytonEngine.Codes.Sellable));

        // Loop's restock request is not a verdict: nothing leaves quarantine.
        await h.SendAsync(r.RestockRequested(2));
        Assert.Equal(quarantine + 2, await h.Stock(Tee, TrytonEngine.Codes.Quarantine));
        Assert.Equal(sellable, await h.Stock(Tee, TrytonEngine.Codes.Sellable));

        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), true, "junk"));

        Assert.Equal(quarantine, await h.Stock(Tee, TrytonEngine.Codes.Quarantine));
        Assert.Equal(sellable + 1, await h.Stock(Tee, TrytonEngine.Codes.Sellable));
        Assert.Equal(damaged + 1, await h.Stock(Tee, TrytonEngine.Codes.Damaged));
        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var shipment = Assert.Single(order.GetProperty("shipment_returns").EnumerateArray());
        Assert.Equal("done", Assert.Single(await h.Rows("stock.shipment.out.return", [new object[] { "id", "=", shipment.GetInt32() }], "state")).GetProperty("state").GetString());
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Edited_return_withdraws_the_processing_tryton_return_sale_and_makes_one_for_the_current_lines()
    {
        // Tryton rules: a processing sale keeps its lines (sale.cancel applies to draft and quoted sales only), so the
        // stale return sale's draft return shipment and draft credit note are cancelled and a new return sale is made.
        await using var h = await StartAsync();
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", (Tee, 2m, Price));
        var edited = false;
        var r = new OutcomeReturn(orderName, (b, x) =>
        {
            b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1));
            if (!edited)
            {
                b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(2));
            }
        }).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        var stale = Assert.Single(await h.ReturnOrders(r.ReturnId)).GetProperty("id").GetInt32();

        edited = true;
        await h.SendAsync(r.Webhook("return.updated", "open", 10));

        var current = Assert.Single(await h.ReturnOrders(r.ReturnId));
        Assert.NotEqual(stale, current.GetProperty("id").GetInt32());
        Assert.Equal(-(Price + Tax), Assert.Single(await h.InvoicesOf(current.GetProperty("id").GetInt32())).GetProperty("total_amount").Deserialize<decimal>(Core.Fulfil.TrytonJson.Options));
        Assert.All(await h.InvoicesOf(stale), i => Assert.Equal("cancelled", i.GetProperty("state").GetString()));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }
}
