using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// Stage families do not block each other (docs/accounting.md, issue #15 item 2): a permanent problem stops its own
/// family and is recorded for its owner; the other families still run. End to end over the sandboxes and Azurite.
/// </summary>
public sealed class IndependentStagesTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";

    [Fact]
    public async Task Waiting_for_fulfils_credit_note_on_shipment_invoicing_still_hands_the_instant_exchange_over_then_redelivers()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Shipment;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);

        // An instant exchange: Loop processes the return before the parcel is back, so Fulfil has no credit note yet.
        await h.SendAsync(r.Created_());
        var deliveries = await h.SendAsync(r.Closed());

        // Finance waits (the message is redelivered), the exchange order does not.
        Assert.Contains(deliveries, d => d.Error is TransientIntegrationException);
        var exchange = Assert.Single(h.TakeExchangeMessages());
        await h.DeliverExchangeAsync(exchange);
        Assert.Single(h.ExchangeOrders(r.ReturnId));
        var returnSale = h.ReturnOrder(r.ReturnId).Id;
        Assert.Empty(h.Fulfil.State.Where("account.invoice", i => i.GetValueOrDefault("sales") is List<int> s && s.Contains(returnSale)));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Once_fulfil_makes_the_credit_note_on_shipment_invoicing_the_redelivered_closed_message_posts_it_and_the_return_settles()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Shipment;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);
        var closed = r.Json("closed", 120);
        await h.SendAsync(r.Created_());

        // The first delivery of return.closed waits for Fulfil's credit note; Fulfil makes it (as on the parcel's
        // receipt) before the redelivery, which the bus makes of the same message.
        await h.PostWebhookAsync(r.Closed());
        var invoiced = false;
        var deliveries = await h.Bus.DrainAsync(async (message, ct) =>
        {
            if (message.DeliveryCount == 2 && !invoiced)
            {
                invoiced = true;
                h.Fulfil.State.InvoiceReturnOrder(h.ReturnOrder(r.ReturnId).Id);
            }

            await using var scope = h.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
        });

        Assert.True(invoiced);
        Assert.IsAssignableFrom<TransientIntegrationException>(deliveries[0].Error);
        var redelivered = Assert.Single(deliveries, d => d.DeliveryCount == 2);
        Assert.Null(redelivered.Error);
        Assert.Empty(h.Bus.DeadLettered);
        await h.DeliverExchangeAsync(Assert.Single(h.TakeExchangeMessages()));

        // Fulfil's own credit note, posted and settled against the exchange for what Loop says was returned.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal((-Money(closed, "return_total"), "paid"), (note.Number("total_amount"), note.State));
        Assert.Equal(LoopReferences.Default.Of(r.ReturnId, LoopReferences.Settlement), Assert.Single(h.Fulfil.State.Reconciliations()).Text("name"));
        var exchangeOrder = Assert.Single(h.ExchangeOrders(r.ReturnId));
        Assert.Equal(Money(closed, "exchange_total"), Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), exchangeOrder.Id))).Number("unit_price"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task A_later_stage_failing_outside_its_own_handling_reports_it_and_still_redelivers_the_family_that_waits()
    {
        await using var h = await OutcomesHarness.StartAsync(addServices: s => s.AddSingleton<IReturnStage, UnreadableOnCloseStage>());
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Shipment;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        // Finance waits for Fulfil's credit note; the exchange-family stage after it then throws what no stage catches.
        var deliveries = await h.SendAsync(r.Closed());

        Assert.Contains(deliveries, d => d.Error is TransientIntegrationException);
        Assert.Equal(ExceptionCategory.UnparseableEvent, Assert.Single(await h.ExceptionRecordsAsync()).Category);
    }

    /// <summary>A stage (exchanges family) whose failure escapes the stage handling, as a JsonException does.</summary>
    private sealed class UnreadableOnCloseStage : IReturnStage
    {
        public int Order => ReturnStageOrder.Exchanges + 1;

        public string Name => "unreadable-on-close";

        public Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken) =>
            context.State == ReturnStates.Closed ? throw new System.Text.Json.JsonException("unreadable") : Task.CompletedTask;
    }

    [Fact]
    public async Task Finance_amount_mismatch_on_a_return_with_an_exchange_still_creates_the_exchange_order_and_receives_the_stock()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // The return is in EUR and the company books in USD: the refunds stage raises AmountMismatch and posts nothing.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithCurrency("EUR").WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        var mismatch = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.AmountMismatch, "finance"), (mismatch.Category, mismatch.Owner));
        Assert.Contains("EUR", mismatch.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Fulfil.State.Count("account.invoice"));
        Assert.Empty(h.Fulfil.State.JournalEntries());

        // The exchange still goes out: one message, one priority sales order.
        var exchange = Assert.Single(h.TakeExchangeMessages());
        await h.DeliverExchangeAsync(exchange);
        var order = Assert.Single(h.ExchangeOrders(r.ReturnId));
        var line = Assert.Single(h.Fulfil.State.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id)));
        Assert.Equal(h.Fulfil.State.ProductId(TeeL), line.Ref("product"));

        // And the warehouse work stands: the unit was received and moved to sellable.
        h.AssertMovedOutEqualsReceived(r.ReturnId, 1m);
    }

    [Fact]
    public async Task Warehouse_exception_for_an_unknown_location_does_not_stop_the_refund()
    {
        // Sellable stock is configured to a location Fulfil does not have: the restock stage fails on every pass.
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Fulfil:SellableLocationCode"] = "NOWHERE" });
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        var sellableBefore = h.Stock(TeeM, FulfilSandboxDemo.SellableLocationCode);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(r.Closed());

        var warehouse = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.FulfilRejected, "operations"), (warehouse.Category, warehouse.Owner));
        Assert.Contains("NOWHERE", warehouse.Message, StringComparison.Ordinal);
        Assert.Equal(1m, h.UnitsReceived(r.ReturnId));
        Assert.Equal(0m, h.UnitsMovedOutOfQuarantine(r.ReturnId));
        Assert.Equal(sellableBefore, h.Stock(TeeM, FulfilSandboxDemo.SellableLocationCode));

        // The money is finance's and nothing of finance's failed: the refund credit note is posted.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(("paid", -25.00m), (note.State, note.Number("total_amount")));
    }

    [Fact]
    public async Task A_generic_fulfil_refusal_is_owned_by_the_team_of_the_family_it_stopped()
    {
        await using var h = await OutcomesHarness.StartAsync();
        OutcomeReturn r = new("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)));
        ReturnContext context = new(
            new ReturnEvent { ReturnId = r.ReturnId, Trigger = ReturnTriggers.ReturnUpdated, Body = r.Created_(), MessageId = "m", DedupeKey = "m" },
            Builders.LoopReturnBuilder.AReturn(r.ReturnId).Build(),
            default,
            h.Ledger,
            new Core.Fulfil.FulfilOptions(),
            new ReturnsOptions(),
            (IReturnExceptionReporter)h.Services.GetService(typeof(IReturnExceptionReporter))!) { CurrentFamily = ReturnStageFamily.Finance };

        var record = await context.RaiseAsync(ExceptionCategory.FulfilRejected, "Fulfil: the fiscal period is closed.", "test", CancellationToken.None, detailKey: "refunds");

        Assert.Equal("finance", record.Owner);
        Assert.True(context.IsBlocked(ReturnStageFamily.Finance));
        Assert.True(context.IsBlocked(ReturnStageFamily.WriteBack));
        Assert.False(context.IsBlocked(ReturnStageFamily.Exchanges));
        Assert.False(context.IsBlocked(ReturnStageFamily.Warehouse));
    }

    /// <summary>A money figure of the Loop payload, never the code's plan.</summary>
    private static decimal Money(JsonObject payload, string field) => decimal.Parse(payload[field]!.GetValue<string>(), CultureInfo.InvariantCulture);
}
