using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// Every write the returns pipeline makes, failed after the server committed it (503, or the connection dropped) on
/// exactly that call, over real HTTP and Azurite: the scenario still ends with exactly one document in the right
/// state once the message is redelivered. The call is not resent blindly; the redelivery finds what it made.
/// </summary>
public sealed class WritesAfterCommitTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";
    private const string Hoodie = "HOOD/GRY:XL";

    public enum Flow
    {
        CashRefund,
        StoreCreditJournal,
        StoreCreditGiftCard,
        Exchange,
        FailedInspection,
    }

    public enum Api
    {
        Fulfil,
        Loop,
    }

    /// <summary>Each create and method call (Fulfil) and each write (Loop) the flows make, by method and path ending.</summary>
    public static TheoryData<Flow, Api, string, string, SandboxFault> Writes()
    {
        (Flow, Api, string, string)[] calls =
        [
            (Flow.CashRefund, Api.Fulfil, "PUT", "/return_order"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "stock.shipment.out.return/receive"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "stock.shipment.out.return/done"),
            (Flow.CashRefund, Api.Fulfil, "POST", "model/stock.shipment.internal"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "stock.shipment.internal/wait"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "stock.shipment.internal/assign_try"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "stock.shipment.internal/done"),
            (Flow.CashRefund, Api.Fulfil, "POST", "model/account.invoice"),
            (Flow.CashRefund, Api.Fulfil, "PUT", "account.invoice/post"),
            (Flow.CashRefund, Api.Loop, "POST", "/process"),
            (Flow.CashRefund, Api.Loop, "POST", "/note"),
            (Flow.StoreCreditJournal, Api.Fulfil, "POST", "model/account.move"),
            (Flow.StoreCreditJournal, Api.Fulfil, "PUT", "account.move/post"),
            (Flow.StoreCreditGiftCard, Api.Fulfil, "POST", "model/gift_card.gift_card"),
            (Flow.StoreCreditGiftCard, Api.Fulfil, "PUT", "gift_card.gift_card/activate"),
            (Flow.Exchange, Api.Fulfil, "POST", "model/party.address"),
            (Flow.Exchange, Api.Fulfil, "POST", "model/sale.sale"),
            (Flow.Exchange, Api.Fulfil, "PUT", "sale.sale/quote"),
            (Flow.Exchange, Api.Fulfil, "PUT", "sale.sale/confirm"),
            (Flow.FailedInspection, Api.Loop, "POST", "/flag"),
            (Flow.FailedInspection, Api.Loop, "POST", "/note"),
        ];
        var data = new TheoryData<Flow, Api, string, string, SandboxFault>();
        foreach (var fault in (SandboxFault[])[SandboxFault.ServerErrorAfterCommit, SandboxFault.DropAfterCommit])
        {
            foreach ((var flow, var api, var method, var path) in calls)
            {
                data.Add(flow, api, method, path, fault);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_write_that_commits_and_then_fails_ends_as_exactly_one_document_after_redelivery(Flow flow, Api api, string method, string path, SandboxFault fault)
    {
        await using var h = await OutcomesHarness.StartAsync(flow == Flow.StoreCreditGiftCard ? new Dictionary<string, string?> { ["Refunds:StoreCreditDocument"] = "GiftCard" } : null, clock: Now());
        var faults = api == Api.Fulfil ? h.Fulfil.Faults : h.Loop.Faults;
        faults.InjectNext(fault, 1, method, path);

        await RunAndAssertAsync(h, flow);

        // The fault fired on that call, and the pipeline did not send it again in-process: the redelivery looked first.
        Assert.Equal(1, faults.Injected(fault));
        Assert.Empty(h.Bus.DeadLettered);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task A_credit_note_whose_answer_stalls_past_the_client_timeout_is_created_once()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["HttpResilience:AttemptTimeout"] = "00:00:01" }, clock: Now());
        h.Fulfil.Faults.TimeoutStall = TimeSpan.FromSeconds(30);
        h.Fulfil.Faults.InjectNext(SandboxFault.DelayAfterCommit, 1, "POST", "model/account.invoice");

        await RunAndAssertAsync(h, Flow.CashRefund);

        Assert.Equal(1, h.Fulfil.Faults.Injected(SandboxFault.DelayAfterCommit));
        Assert.Equal(1, h.Fulfil.RequestCount("POST", "model/account.invoice"));
        // The timed-out create kept its step's lease: a redelivery met it and the next came after it expired.
        Assert.Contains(h.Bus.Deliveries, d => d.Error is StepLeaseHeldException);
    }

    [Fact]
    public async Task A_credit_note_create_reset_before_it_commits_is_not_resent_blindly_and_the_redelivery_creates_it_once()
    {
        await using var h = await OutcomesHarness.StartAsync(clock: Now());
        h.Fulfil.Faults.InjectNext(SandboxFault.ResetBeforeCommit, 1, "POST", "model/account.invoice");

        await RunAndAssertAsync(h, Flow.CashRefund);

        // First attempt reset (nothing made), the redelivery looked, found nothing and created it.
        Assert.Equal(2, h.Fulfil.RequestCount("POST", "model/account.invoice"));
        Assert.Contains(h.Bus.Deliveries, d => d.Error is not null);
    }

    /// <summary>
    /// The services' clock, advanced by the bus past a lease a failed create kept (the server may still have been
    /// running it), so the redelivery that looks it up comes after the lease, as it would in production.
    /// </summary>
    private static FakeTimeProvider Now() => new(TimeProvider.System.GetUtcNow());

    private static async Task RunAndAssertAsync(OutcomesHarness h, Flow flow)
    {
        switch (flow)
        {
            case Flow.CashRefund:
                await CashRefundAsync(h);
                return;
            case Flow.StoreCreditJournal:
                await StoreCreditJournalAsync(h);
                return;
            case Flow.StoreCreditGiftCard:
                await StoreCreditGiftCardAsync(h);
                return;
            case Flow.Exchange:
                await ExchangeAsync(h);
                return;
            default:
                await FailedInspectionAsync(h);
                return;
        }
    }

    private static async Task CashRefundAsync(OutcomesHarness h)
    {
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1").WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"), new LineInspection(r.Line(2), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        Assert.Equal(r.ReturnId, h.ReturnOrder(r.ReturnId).Text("channel_identifier"));
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(("paid", -50.00m), (note.State, note.Number("total_amount")));
        Assert.Equal(1, h.Fulfil.State.Count("account.invoice"));
        Assert.Equal("done", Assert.Single(h.RestockShipments(r.ReturnId)).State);
        h.AssertMovedOutEqualsReceived(r.ReturnId, 2m);
        // Process is queued in Loop (the sandbox closes the return in the background): the accepted call is what counts.
        Assert.Equal("passed", h.Loop.GetProcessDetails(r.ReturnId)?["loopfulfil_inspection"]?.GetValue<string>());
        Assert.Single(h.Loop.GetNotes(r.ReturnId), n => n.Contains($"LOOP-{r.ReturnId}-CN {note.Text("number")}", StringComparison.Ordinal));
    }

    private static async Task StoreCreditJournalAsync(OutcomesHarness h)
    {
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var journal = Assert.Single(h.Journals(r.ReturnId, "SC"));
        Assert.Equal("posted", journal.State);
        Assert.Single(h.Fulfil.State.JournalEntries());
        Assert.Equal(79.99m, h.JournalLines(journal.Id).Sum(l => l.Number("credit")));
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
    }

    private static async Task StoreCreditGiftCardAsync(OutcomesHarness h)
    {
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        var card = Assert.Single(h.Fulfil.State.All("gift_card.gift_card"));
        Assert.Equal(("active", 79.99m), (card.State, card.Number("amount")));
        // The store-credit journal books the card (docs/accounting.md row 4): once, whatever the fault.
        Assert.Equal(79.99m, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, "SC")).Id).Sum(l => l.Number("debit")));
    }

    private static async Task ExchangeAsync(OutcomesHarness h)
    {
        var original = Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001"), s => !Equals(s["is_return"], true));
        var party = original.Ref("party")!.Value;
        var addressesBefore = h.Fulfil.State.AddressesOf(party).Count;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)
            .Set("address", new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = "Jane Doe",
                ["address1"] = "1 Example Street",
                ["city"] = "New York",
                ["zip"] = "10024",
                ["country_code"] = "US",
            })).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());
        var message = Assert.Single(h.TakeExchangeMessages());
        await h.DeliverExchangeAsync(message);

        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal("confirmed", order.State);
        Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id)));
        Assert.Equal(addressesBefore + 1, h.Fulfil.State.AddressesOf(party).Count);
        Assert.Equal(h.Fulfil.State.AddressesOf(party)[^1].Id, order.Ref("shipment_address"));
    }

    private static async Task FailedInspectionAsync(OutcomesHarness h)
    {
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), false, Note: "stained"));

        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));
        Assert.Equal("review", h.Loop.GetState(r.ReturnId));
        Assert.Contains("stained", Assert.Single(h.Loop.GetNotes(r.ReturnId)), StringComparison.Ordinal);
        Assert.Empty(h.RestockShipments(r.ReturnId));
    }
}
