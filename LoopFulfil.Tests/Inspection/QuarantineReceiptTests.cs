using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Inspection;

/// <summary>
/// Issue #15 item 10: goods are in quarantine from the moment Loop says the parcel arrived, reached through Tryton's
/// customer return flow (customer → input → quarantine, a waste location of the warehouse), and only an inspection
/// verdict moves them out. The simulator receives a return shipment into storage unless its inventory moves are
/// pointed elsewhere, as Tryton does, so the old behaviour (an inferred return_order argument) fails here.
/// </summary>
public sealed class QuarantineReceiptTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string Quarantine = FulfilSandboxDemo.QuarantineLocationCode;
    private const string Sellable = FulfilSandboxDemo.SellableLocationCode;

    [Fact]
    public async Task Delivered_label_receives_the_parcel_into_quarantine_before_any_inspection_through_the_warehouse_input()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = TwoTees().AddTo(h.Loop);
        var sellable = h.Stock(TeeM, Sellable);
        var quarantine = h.Stock(TeeM, Quarantine);
        await h.SendAsync(r.Created_());

        await h.SendAsync(r.LabelUpdated("in_transit"));
        Assert.Equal(0m, h.UnitsReceived(r.ReturnId));

        await h.SendAsync(r.LabelUpdated("delivered"));
        await h.SendAsync(r.LabelUpdated("delivered"));

        Assert.Equal(2m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(quarantine + 2, h.Stock(TeeM, Quarantine));
        Assert.Equal(sellable, h.Stock(TeeM, Sellable));
        Assert.Empty(h.RestockShipments(r.ReturnId));
        // Tryton's flow: the incoming moves came customer → input; the inventory moves went input → quarantine.
        var input = h.Fulfil.State.LocationId(FulfilSandboxDemo.InputLocationCode);
        var moves = ShipmentMoves(h, r.ReturnId);
        Assert.All(moves.Where(m => Equals(m.Text("kind"), "incoming")), m => Assert.Equal(input, m.Ref("to_location")));
        Assert.All(moves.Where(m => Equals(m.Text("kind"), "inventory")), m => Assert.Equal((input, h.QuarantineId, "done"), (m.Ref("from_location"), m.Ref("to_location"), m.State)));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Restock_requested_receives_into_quarantine_and_only_the_inspection_moves_units_to_sellable()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = TwoTees().AddTo(h.Loop);
        var sellable = h.Stock(TeeM, Sellable);
        await h.SendAsync(r.Created_());

        await h.SendAsync(r.RestockRequested(2));

        Assert.Equal(2m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(sellable, h.Stock(TeeM, Sellable));
        Assert.Empty(h.RestockShipments(r.ReturnId));

        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), true, "junk"));

        Assert.Equal(sellable + 1, h.Stock(TeeM, Sellable));
        Assert.Equal(1m, h.Stock(TeeM, FulfilSandboxDemo.DamagedLocationCode));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 2m);
    }

    [Fact]
    public async Task Return_shipment_received_by_hand_in_fulfil_is_finished_into_quarantine_not_storage()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = TwoTees().AddTo(h.Loop);
        var sellable = h.Stock(TeeM, Sellable);
        await h.SendAsync(r.Created_());
        var shipment = Assert.Single(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), h.ReturnOrder(r.ReturnId).Id))).Id;
        var http = ((FulfilClient)h.Services.GetRequiredService<IFulfilClient>()).Http;

        // Warehouse staff press "receive" in Fulfil: Tryton's draft inventory moves point at storage.
        await http.CallAsync("stock.shipment.out.return", "receive", [new[] { shipment }]);
        await h.SendAsync(r.LabelUpdated("delivered"));

        Assert.Equal("done", h.Fulfil.State.Get("stock.shipment.out.return", shipment).State);
        Assert.Equal(2m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(sellable, h.Stock(TeeM, Sellable));
    }

    [Fact]
    public async Task Quarantine_location_outside_the_warehouse_return_flow_raises_an_exception_and_receives_nothing()
    {
        // The inventory adjustment location is neither under the warehouse storage nor one of its waste locations.
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.InventoryLocationCode });
        var r = TwoTees().AddTo(h.Loop);
        var sellable = h.Stock(TeeM, Sellable);
        await h.SendAsync(r.Created_());

        await h.SendAsync(r.LabelUpdated("delivered"));

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.FulfilRejected, record.Category);
        Assert.Contains("waste location", record.Message, StringComparison.Ordinal);
        Assert.Equal(sellable, h.Stock(TeeM, Sellable));
        Assert.All(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), h.ReturnOrder(r.ReturnId).Id)), s => Assert.Equal("draft", s.State));
    }

    [Fact]
    public async Task Open_return_without_an_arrival_signal_receives_nothing()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = TwoTees().AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Webhook("return.updated", "open", 10));

        Assert.Equal(0m, h.UnitsReceived(r.ReturnId));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Simulator_refuses_inventory_moves_of_a_return_shipment_outside_storage_and_waste_locations_as_tryton_does()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var sale = host.Sandbox.State.Where("sale.sale", s => Equals(s.GetValueOrDefault("reference"), "#1001"))[0].Id;
        var line = host.Sandbox.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), sale))[0].Id;
        var order = await host.Client.CreateReturnOrderAsync(new FulfilReturnOrderRequest(sale, "RULE-1", "LOOP-RULE-1", [new FulfilReturnLineRequest(line, 1m, null, "1", null)]));
        var shipment = order.ReturnShipmentIds[0];
        await host.Http.CallAsync("stock.shipment.out.return", "receive", [new[] { shipment }]);
        var move = host.Sandbox.State.Where("stock.move", m => Equals(m.GetValueOrDefault("shipment"), "stock.shipment.out.return," + shipment.ToString(CultureInfo.InvariantCulture)) && Equals(m.GetValueOrDefault("kind"), "inventory"))[0].Id;
        var outside = host.Sandbox.State.LocationId(FulfilSandboxDemo.InventoryLocationCode);

        var refused = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Http.WriteAsync("stock.shipment.out.return", [shipment], Through("inventory_moves", move, outside)));
        await host.Http.WriteAsync("stock.shipment.out.return", [shipment], Through("inventory_moves", move, host.Sandbox.State.LocationId(FulfilSandboxDemo.QuarantineLocationCode)));

        Assert.Contains("waste locations", refused.Message, StringComparison.Ordinal);
        Assert.Equal(host.Sandbox.State.LocationId(FulfilSandboxDemo.QuarantineLocationCode), host.Sandbox.State.Get("stock.move", move).Ref("to_location"));
    }

    private static OutcomeReturn TwoTees() =>
        new("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1").WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1"));

    private static Dictionary<string, object?> Through(string field, int move, int location) =>
        new() { [field] = new object[] { new object[] { "write", new[] { move }, new Dictionary<string, object?> { ["to_location"] = location } } } };

    private static List<FulfilSandboxRecord> ShipmentMoves(OutcomesHarness h, string returnId)
    {
        var refs = h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), h.ReturnOrder(returnId).Id))
            .Select(s => "stock.shipment.out.return," + s.Id.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        return [.. h.Fulfil.State.Where("stock.move", m => refs.Contains(m.GetValueOrDefault("shipment") as string ?? ""))];
    }
}
