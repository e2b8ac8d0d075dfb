using System.Text.Json.Nodes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Exchanges;

/// <summary>
/// Exchange orders end to end over real parts (Fulfil sandbox over HTTP, Azurite ledger and exception tables): where
/// they ship, and how a failed one is replayed.
/// </summary>
public sealed class ExchangeShipToAndReplayTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";

    // The shape of Loop's top-level return address (personal data replaced, as in the published samples).
    private static JsonObject ReturnAddress(string street = "1 Example Street", string? address1Override = null) => new()
    {
        ["name"] = "Jane Doe",
        ["company"] = "Example Co",
        ["address1"] = address1Override ?? street,
        ["address2"] = "",
        ["city"] = "New York",
        ["state"] = "New York",
        ["zip"] = "10024",
        ["country"] = "United States",
        ["country_code"] = "US",
        ["phone"] = "5550100",
    };

    [Fact]
    public async Task Exchange_ships_to_the_return_address_as_a_new_address_of_the_customer_and_invoices_the_original()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var original = OriginalSale(h, "#1001");
        var party = original.Ref("party")!.Value;
        var addressesBefore = h.Fulfil.State.AddressesOf(party).Count;
        var r = Exchange(h, "#1001", TeeL, ReturnAddress());

        var result = Assert.Single(await CloseAndDeliverAsync(h, r));

        Assert.Equal(ExchangeOutcome.Created, result.Outcome);
        var addresses = h.Fulfil.State.AddressesOf(party);
        Assert.Equal(addressesBefore + 1, addresses.Count);
        var created = addresses[^1];
        Assert.Equal("Jane Doe, Example Co", created.Text("name"));
        Assert.Equal("1 Example Street", created.Text("street"));
        Assert.Null(created.Text("street_bis"));
        Assert.Equal("New York", created.Text("city"));
        Assert.Equal("10024", created.Text("zip"));
        Assert.Equal(h.Fulfil.State.CountryId("US"), created.Ref("country"));
        Assert.Equal(Assert.Single(h.Fulfil.State.Where("country.subdivision", s => Equals(s.GetValueOrDefault("code"), "US-NY"))).Id, created.Ref("subdivision"));
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal(created.Id, order.Ref("shipment_address"));
        Assert.NotEqual(original.Ref("shipment_address"), order.Ref("shipment_address"));
        Assert.Equal(original.Ref("invoice_address"), order.Ref("invoice_address"));
        Assert.Equal(party, order.Ref("party"));
        Assert.Equal("confirmed", order.State);
    }

    [Fact]
    public async Task Exchange_reuses_an_equal_address_the_customer_already_has_instead_of_adding_one()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var party = OriginalSale(h, "#1001").Ref("party")!.Value;
        // Typed differently (case, spacing, punctuation, postcode spacing), the same place for the same recipient.
        var existing = h.Fulfil.State.AddAddress(party, "jane doe,  EXAMPLE CO", "1 example street.", "NEW YORK", " 10024 ", "US");
        var addressesBefore = h.Fulfil.State.AddressesOf(party).Count;
        var r = Exchange(h, "#1001", TeeL, ReturnAddress());

        await CloseAndDeliverAsync(h, r);

        Assert.Equal(addressesBefore, h.Fulfil.State.AddressesOf(party).Count);
        Assert.Equal(existing, Assert.Single(h.ExchangeOrders(r.ReturnId)).Ref("shipment_address"));
    }

    [Fact]
    public async Task Exchange_delivered_five_times_creates_one_address_and_one_order()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var party = OriginalSale(h, "#1001").Ref("party")!.Value;
        var addressesBefore = h.Fulfil.State.AddressesOf(party).Count;
        var r = Exchange(h, "#1001", TeeL, ReturnAddress());

        var results = await CloseAndDeliverAsync(h, r, times: 5);

        Assert.Equal(5, results.Count);
        Assert.All(results, x => Assert.Equal(ExchangeOutcome.Created, x.Outcome));
        Assert.Single(results.Select(x => x.SaleId).Distinct());
        Assert.Equal(addressesBefore + 1, h.Fulfil.State.AddressesOf(party).Count);
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal(h.Fulfil.State.AddressesOf(party)[^1].Id, order.Ref("shipment_address"));
        Assert.Equal(1, h.Fulfil.RequestCount("POST", "model/party.address"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Exchange_without_a_usable_return_address_ships_to_the_original_sale_address(bool addressWithoutStreet)
    {
        await using var h = await OutcomesHarness.StartAsync();
        var original = OriginalSale(h, "#1002");
        var party = original.Ref("party")!.Value;
        var addressesBefore = h.Fulfil.State.AddressesOf(party).Count;
        var r = Exchange(h, "#1002", "JEANS-32/32", addressWithoutStreet ? ReturnAddress(address1Override: " ") : null, line: ("CAP/RED:OS", 19.50m), exchangePrice: 89.00m);

        var result = Assert.Single(await CloseAndDeliverAsync(h, r));

        Assert.Equal(ExchangeOutcome.Created, result.Outcome);
        Assert.Equal(addressesBefore, h.Fulfil.State.AddressesOf(party).Count);
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.NotNull(original.Ref("shipment_address"));
        Assert.Equal(original.Ref("shipment_address"), order.Ref("shipment_address"));
        Assert.Equal(original.Ref("invoice_address"), order.Ref("invoice_address"));
        Assert.Equal(0, h.Fulfil.RequestCount("POST", "model/party.address"));
    }

    [Fact]
    public async Task Unknown_exchange_sku_fails_then_replay_after_the_fix_creates_exactly_one_priority_order()
    {
        const string NewSku = "TEE-NEW-XS";
        await using var h = await OutcomesHarness.StartAsync();
        var r = Exchange(h, "#1001", NewSku, ReturnAddress());
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        var original = Assert.Single(h.TakeExchangeMessages());

        var failed = Assert.Single(await h.DeliverExchangeAsync(original));

        Assert.Equal(ExchangeOutcome.Failed, failed.Outcome);
        Assert.Empty(h.ExchangeOrders(r.ReturnId));
        var record = Assert.Single(await h.ExceptionRecordsAsync(), x => x.Category == ExceptionCategory.ExchangeOrderFailed);
        Assert.Contains(NewSku, record.Message, StringComparison.Ordinal);
        Assert.Equal(QueueNames.LoopExchanges, record.ReplayQueue);
        Assert.Equal(original.Body.Length, record.RawEventLength);

        h.Fulfil.State.AddProduct(NewSku, "New tee XS", 25.00m);
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        var first = await exceptions.ReplayAsync(record.Id, CancellationToken.None);

        Assert.Equal(ReplayOutcome.Replayed, first.Outcome);
        var replayed = Assert.Single(h.TakeExchangeMessages());
        Assert.Equal(QueueNames.LoopExchanges, replayed.Queue);
        Assert.Equal(first.MessageId, replayed.MessageId);
        Assert.NotEqual(original.MessageId, replayed.MessageId);
        Assert.Equal(original.Body.ToArray(), replayed.Body.ToArray());
        var created = Assert.Single(await h.DeliverExchangeAsync(replayed));
        Assert.Equal(ExchangeOutcome.Created, created.Outcome);
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal("1", order.Text("priority"));
        Assert.Equal("confirmed", order.State);
        Assert.Equal(h.Fulfil.State.ProductId(NewSku), Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id))).Ref("product"));

        var second = await exceptions.ReplayAsync(record.Id, CancellationToken.None);

        Assert.Equal(ReplayOutcome.Replayed, second.Outcome);
        var replayedAgain = Assert.Single(h.TakeExchangeMessages());
        Assert.NotEqual(replayed.MessageId, replayedAgain.MessageId);
        Assert.Equal(ExchangeOutcome.Created, Assert.Single(await h.DeliverExchangeAsync(replayedAgain)).Outcome);
        Assert.Equal(order.Id, Assert.Single(h.ExchangeOrders(r.ReturnId)).Id);
        var after = (await exceptions.GetAsync(record.Id, CancellationToken.None))!;
        Assert.Equal(ExceptionStatus.Replayed, after.Status);
        Assert.Equal(2, after.ReplayCount);
    }

    private static FulfilSandboxRecord OriginalSale(OutcomesHarness h, string reference) =>
        Assert.Single(h.Fulfil.State.FindByReference("sale.sale", reference), s => !Equals(s["is_return"], true));

    private static OutcomeReturn Exchange(OutcomesHarness h, string orderName, string exchangeSku, JsonObject? address, (string Sku, decimal Price)? line = null, decimal exchangePrice = 25.00m)
    {
        (var sku, var price) = line ?? (TeeM, 25.00m);
        return new OutcomeReturn(orderName, (b, x) =>
        {
            b.WithLine(sku, price, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(exchangeSku, exchangePrice);
            if (address is not null)
            {
                b.Set("address", address.DeepClone());
            }
        }).AddTo(h.Loop);
    }

    private static async Task<IReadOnlyList<ExchangeHandlingResult>> CloseAndDeliverAsync(OutcomesHarness h, OutcomeReturn r, int times = 1)
    {
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        var message = Assert.Single(h.TakeExchangeMessages());
        return await h.DeliverExchangeAsync(message, times);
    }
}
