using System.Text.Json;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Outcomes;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// The outcome scenarios against the real engine: Tryton 6.0 behind the Fulfil façade (eng/tryton), Loop simulated.
/// Each test names the Tryton rule it runs into. The original order of each test is its own Tryton sale (a 25.00 tee
/// with Tryton's 10% sales tax: 27.50 paid), made and shipped through Tryton's own workflow.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonScenarioTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    private static readonly string[] ConfirmedOrLater = ["confirmed", "processing"];

    [Fact]
    public async Task Authorised_return_becomes_a_tryton_return_sale_with_a_draft_return_shipment_and_credit_note()
    {
        // Tryton rule: processing a sale with negative quantities creates a draft stock.shipment.out.return
        // (customer → warehouse input) and, with invoice method "order", a draft credit note including the tax.
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));

        await h.SendAsync(r.Created_());

        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        Assert.Equal("processing", order.GetProperty("state").GetString());
        var shipment = Assert.Single(order.GetProperty("shipment_returns").EnumerateArray());
        Assert.Equal("draft", Assert.Single(await h.Rows("stock.shipment.out.return", [new object[] { "id", "=", shipment.GetInt32() }], "state")).GetProperty("state").GetString());
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal("draft", note.GetProperty("state").GetString());
        Assert.Equal(-(Price + Tax), Dec(note, "total_amount"));
        Assert.Equal(-Tax, Dec(note, "tax_amount"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Cancelled_return_cancels_the_draft_return_shipment_and_credit_note_tryton_made_for_it()
    {
        // Tryton rule: sale.cancel applies only to draft and quoted sales (a processing return sale stays processing);
        // what a processing return sale made is undone by cancelling each draft document with its own workflow.
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));
        await h.SendAsync(r.Created_());

        await h.SendAsync(r.Webhook("return.updated", "cancelled", 30));

        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var shipment = Assert.Single(order.GetProperty("shipment_returns").EnumerateArray());
        Assert.Equal("cancelled", Assert.Single(await h.Rows("stock.shipment.out.return", [new object[] { "id", "=", shipment.GetInt32() }], "state")).GetProperty("state").GetString());
        Assert.All(await h.InvoicesOf(order.GetProperty("id").GetInt32()), i => Assert.Equal("cancelled", i.GetProperty("state").GetString()));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Cash_refund_posts_trytons_own_credit_note_with_tax_once_and_restocks_through_quarantine()
    {
        // Tryton rules: the return sale's credit note is Tryton's (no second one may be made); posting it needs an
        // open period; a return shipment receives into quarantine only because it is a waste location of the warehouse.
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));
        var sellable = await h.Stock(Tee, TrytonEngine.Codes.Sellable);
        var quarantine = await h.Stock(Tee, TrytonEngine.Codes.Quarantine);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        // Paid: the refund payment settled it (LOOP-{id}-SETTLE reconciles the receivable).
        Assert.Equal("paid", note.GetProperty("state").GetString());
        Assert.Equal(-(Price + Tax), Dec(note, "total_amount"));
        Assert.Equal(sellable + 1, await h.Stock(Tee, TrytonEngine.Codes.Sellable));
        Assert.Equal(quarantine, await h.Stock(Tee, TrytonEngine.Codes.Quarantine));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Store_credit_posts_a_balanced_liability_entry_in_an_open_period_against_trytons_posted_credit_note()
    {
        // Tryton rules: an account.move must balance and its date must fall in an open period to be posted.
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)).WithGiftCard(Price + Tax));
        var liability = await h.Balance(TrytonEngine.Codes.GiftCardLiability);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        var moves = await h.Rows("account.move", [new object[] { "description", "=", $"LOOP-{r.ReturnId}-SC" }], "state");
        Assert.Equal("posted", Assert.Single(moves).GetProperty("state").GetString());
        // Liability accounts carry credit balances: store credit lowers the (debit − credit) balance by its amount.
        Assert.Equal(liability - (Price + Tax), await h.Balance(TrytonEngine.Codes.GiftCardLiability));
        // docs/accounting.md row 4: the returned unit is credited by Tryton's own credit note; the store credit settles it.
        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", -(Price + Tax)), (note.GetProperty("state").GetString(), Dec(note, "total_amount")));
    }

    [Fact]
    public async Task Damaged_item_goes_from_quarantine_to_the_damaged_location_not_to_sellable_stock()
    {
        // Tryton rule: an internal shipment moves stock only between storage/lost_found/view locations, and only
        // what the source location holds (assign_try answers false otherwise).
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));
        var sellable = await h.Stock(Tee, TrytonEngine.Codes.Sellable);
        var damaged = await h.Stock(Tee, TrytonEngine.Codes.Damaged);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), false, "junk"));
        h.Loop.SetState(r.ReturnId, "closed");
        await h.SendAsync(r.Closed());

        Assert.Equal(damaged + 1, await h.Stock(Tee, TrytonEngine.Codes.Damaged));
        Assert.Equal(sellable, await h.Stock(Tee, TrytonEngine.Codes.Sellable));
    }

    [Fact]
    public async Task Exchange_becomes_a_confirmed_tryton_sale_that_tryton_processes_into_a_shipment()
    {
        // Tryton rules: a sale line needs its unit; confirming queues process, which creates the outgoing shipment.
        await using var h = await StartAsync();
        var (r, _) = await ReturnOnAnOrderOfBothSizesAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, Price, Tax));

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());
        var result = Assert.Single(await h.DeliverExchangesAsync());

        Assert.Equal(ExchangeOutcome.Created, result.Outcome);
        var order = Assert.Single(await h.Rows("sale.sale", [new object[] { "reference", "=", $"LOOP-{r.ReturnId}-EXC" }], "state", "shipments", "channel"));
        Assert.Contains(order.GetProperty("state").GetString(), ConfirmedOrLater);
        Assert.Equal(h.Engine.ExchangeChannelId, order.GetProperty("channel").GetInt32());
        Assert.Single(order.GetProperty("shipments").EnumerateArray());
    }

    private static Task<(OutcomeReturn Return, int SaleId)> ReturnOnAnOrderOfBothSizesAsync(TrytonHarness h, Action<Builders.LoopReturnBuilder, OutcomeReturn> configure) =>
        ReturnAsync(h, configure, (Tee, 1m, Price), (TeeL, 1m, Price));
}
