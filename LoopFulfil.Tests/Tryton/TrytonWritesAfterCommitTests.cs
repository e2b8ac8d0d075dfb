using System.Text.Json;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Sandbox.Tryton;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// Issue #13's after-commit faults on the real engine (issue #14 item 4): the integration reaches Tryton's façade
/// through the YARP fault proxy, and the first request of <b>every</b> create and method call a flow makes is
/// forwarded, committed by Tryton, and then answered 503 or dropped. Every flow must still end with exactly one of
/// each document in Tryton, read from Tryton (not from the integration's ledger), and the accounts moved by exactly
/// what the Loop payload says. Tryton is never loosened: a repeated <c>post</c> of a posted invoice, a second
/// <c>return_order</c>, a <c>receive</c> of a received shipment would each be refused or make a second document.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonWritesAfterCommitTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    private static readonly string[] ReadMethods = ["search_read", "search_count", "search", "read", "fields_get", "default_get"];
    private static readonly string[] ConfirmedOrLater = ["confirmed", "processing", "done"];

    [Theory]
    [InlineData(SandboxFault.ServerErrorAfterCommit)]
    [InlineData(SandboxFault.DropAfterCommit)]
    public async Task Cash_refund_whose_every_write_fails_after_tryton_committed_it_ends_with_one_return_sale_credit_note_restock_and_payment(SandboxFault fault)
    {
        // Tryton rules: return_order makes one return sale and, by processing it, one draft credit note and one return
        // shipment; a posted invoice cannot be posted or written again; a done shipment cannot be received again.
        var faults = EveryWriteOnce(fault);
        await using var h = await StartAsync(faults: faults, clock: new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        h.Bus.MaxDeliveryCount = 40;
        const decimal paid = Price + Tax;
        var (r, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, refund: 0m, lineItemId: x.Line(1)).WithRefund(paid));
        var sellable = await h.Stock(Tee, TrytonEngine.Codes.Sellable);
        var quarantine = await h.Stock(Tee, TrytonEngine.Codes.Quarantine);
        var before = await BalancesAsync(h);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        AssertEachFaulted(faults, fault, "/return_order", "stock.shipment.out.return/receive", "stock.shipment.out.return/done", "model/stock.shipment.internal", "account.invoice/post", "model/account.move", "account.move/post");
        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var shipment = Assert.Single(order.GetProperty("shipment_returns").EnumerateArray());
        Assert.Equal("done", State(Assert.Single(await h.Rows("stock.shipment.out.return", [new object[] { "id", "=", shipment.GetInt32() }], "state"))));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", $"LOOP-{r.ReturnId}-CN", -paid), (State(note), note.GetProperty("reference").GetString(), Dec(note, "total_amount")));
        Assert.Equal("done", State(Assert.Single(await Restocks(h, r.ReturnId))));
        Assert.Equal("posted", State(Assert.Single(await Moves(h, $"LOOP-{r.ReturnId}-RF"))));
        Assert.Equal((sellable + 1, quarantine), (await h.Stock(Tee, TrytonEngine.Codes.Sellable), await h.Stock(Tee, TrytonEngine.Codes.Quarantine)));
        var moved = Delta(before, await BalancesAsync(h));
        Assert.Equal((Price, Tax, -paid, 0m), (moved[TrytonEngine.Codes.Revenue], moved[TrytonEngine.Codes.Tax], moved[TrytonEngine.Codes.ReturnsClearing], moved[TrytonEngine.Codes.Receivable]));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Theory]
    [InlineData(SandboxFault.ServerErrorAfterCommit)]
    [InlineData(SandboxFault.DropAfterCommit)]
    public async Task Store_credit_whose_every_write_fails_after_tryton_committed_it_ends_with_one_credit_note_and_one_balanced_liability_entry(SandboxFault fault)
    {
        // Tryton rules: an account.move must balance and, once posted, cannot be posted or changed again; the return
        // sale's credit note is Tryton's own, made once.
        var faults = EveryWriteOnce(fault);
        await using var h = await StartAsync(faults: faults, clock: new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        h.Bus.MaxDeliveryCount = 40;
        const decimal credit = Price + Tax;
        var (r, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, refund: 0m, lineItemId: x.Line(1)).WithGiftCard(credit));
        var before = await BalancesAsync(h);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        AssertEachFaulted(faults, fault, "/return_order", "account.invoice/post", "model/account.move", "account.move/post");
        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", -credit), (State(note), Dec(note, "total_amount")));
        Assert.Equal("posted", State(Assert.Single(await Moves(h, $"LOOP-{r.ReturnId}-SC"))));
        Assert.Single(await Restocks(h, r.ReturnId));
        var moved = Delta(before, await BalancesAsync(h));
        Assert.Equal((Price, Tax, -credit, 0m, 0m), (moved[TrytonEngine.Codes.Revenue], moved[TrytonEngine.Codes.Tax], moved[TrytonEngine.Codes.GiftCardLiability], moved[TrytonEngine.Codes.Receivable], moved[TrytonEngine.Codes.ReturnsClearing]));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Theory]
    [InlineData(SandboxFault.ServerErrorAfterCommit)]
    [InlineData(SandboxFault.DropAfterCommit)]
    public async Task Even_exchange_whose_every_write_fails_after_tryton_committed_it_ends_with_one_exchange_sale_one_invoice_and_one_reconciliation(SandboxFault fault)
    {
        // Tryton rules: confirming a sale processes it once into one shipment and one invoice; a reconciliation refuses
        // lines already reconciled, so a second settlement could not be made — it must be found.
        var faults = EveryWriteOnce(fault);
        await using var h = await StartAsync(faults: faults, clock: new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        h.Bus.MaxDeliveryCount = 40;
        var (r, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, Price, Tax), (Tee, 1m, Price), (TeeL, 1m, Price));
        var before = await BalancesAsync(h);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());
        await h.DeliverExchangesAsync();

        AssertEachFaulted(faults, fault, "/return_order", "model/sale.sale", "sale.sale/quote", "sale.sale/confirm", "model/account.move.reconciliation");
        var order = Assert.Single(await h.ReturnOrders(r.ReturnId));
        var note = Assert.Single(await h.InvoicesOf(order.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", -(Price + Tax)), (State(note), Dec(note, "total_amount")));
        var exchange = Assert.Single(await h.Rows("sale.sale", [new object[] { "reference", "=", $"LOOP-{r.ReturnId}-EXC" }], "state", "shipments"));
        Assert.Contains(State(exchange), ConfirmedOrLater);
        Assert.Single(exchange.GetProperty("shipments").EnumerateArray());
        var invoice = Assert.Single(await h.InvoicesOf(exchange.GetProperty("id").GetInt32()));
        Assert.Equal(("paid", Price + Tax), (State(invoice), Dec(invoice, "total_amount")));
        Assert.Single(await h.Rows("account.move.reconciliation", [new object[] { "name", "=", $"LOOP-{r.ReturnId}-SETTLE" }]));
        var moved = Delta(before, await BalancesAsync(h));
        Assert.All(moved, kv => Assert.Equal(0m, kv.Value));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    /// <summary>The first request of every create (POST) and every method call that is not a read fails with <paramref name="fault"/>.</summary>
    private static FaultInjection EveryWriteOnce(SandboxFault fault)
    {
        var faults = new FaultInjection();
        faults.InjectOnFirstOfEach(fault, (method, path) => method == "POST" || (method == "PUT" && !ReadMethods.Contains(path[(path.LastIndexOf('/') + 1)..], StringComparer.Ordinal)));
        return faults;
    }

    /// <summary>The fault fired on each named call (by path ending), and no other kind was injected.</summary>
    private static void AssertEachFaulted(FaultInjection faults, SandboxFault fault, params string[] pathEndings)
    {
        var faulted = faults.FaultedCalls;
        Assert.All(pathEndings, ending => Assert.Contains(faulted, call => call.EndsWith(ending, StringComparison.Ordinal)));
        Assert.Equal(faulted.Count, faults.Injected(fault));
    }

    private static Task<IReadOnlyList<JsonElement>> Restocks(TrytonHarness h, string returnId) =>
        h.Rows("stock.shipment.internal", [new object[] { "reference", "like", $"LOOP-{returnId}-%" }], "state");

    private static Task<IReadOnlyList<JsonElement>> Moves(TrytonHarness h, string description) =>
        h.Rows("account.move", [new object[] { "description", "=", description }], "state");

    private static string? State(JsonElement row) => row.GetProperty("state").GetString();
}
