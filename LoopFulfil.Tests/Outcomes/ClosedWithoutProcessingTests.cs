using System.Text;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Tests.Builders;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// Closed is not processed (docs/accounting.md row 12, issue #15 item 3): Loop's Close Return executes no outcome, so
/// a return closed that way posts no money and ships no exchange until finance confirms or Loop shows it processed.
/// </summary>
public sealed class ClosedWithoutProcessingTests
{
    private const string TeeM = "TEE-BLK-M";
    private const string TeeL = "TEE-BLK-L";

    [Fact]
    public async Task Return_closed_without_processing_posts_nothing_ships_nothing_and_a_finance_replay_posts_it_once()
    {
        await using var h = await OutcomesHarness.StartAsync();
        // Two units back: one exchanged for a large, one refunded (25.00).
        var r = new OutcomeReturn("#1001", (b, x) => b
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1")
            .WithLine(TeeM, 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")
            .WithExchangeOnOriginalOrder(TeeL, 25.00m)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());

        // CX uses Close Return in Loop: the return closes and Loop sends return.closed with what it holds.
        h.Loop.CloseWithoutProcessing(r.ReturnId, sendWebhook: false);
        await h.SendAsync(SandboxWebhook(h, r.ReturnId, "return.closed"));

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.ClosedWithoutProcessing, "finance", ExceptionStatus.Open), (record.Category, record.Owner, record.Status));
        Assert.Contains("closed without processing — confirm", record.Message, StringComparison.Ordinal);
        Assert.Empty(h.CreditNotes(r.ReturnId));
        Assert.Empty(h.Fulfil.State.JournalEntries());
        Assert.Empty(h.TakeExchangeMessages());
        Assert.Empty(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None));
        // The payload could not tell, so Loop's Get Return Details was asked before deciding.
        Assert.Contains(h.Loop.Requests, q => q.Path.Contains("/warehouse/return/details", StringComparison.Ordinal));
        Assert.Empty(h.Loop.GetNotes(r.ReturnId));

        // Finance confirms the outcomes ran: the replay posts the refund and sends the exchange, once however often.
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        await exceptions.ReplayAsync(record.Id, CancellationToken.None);
        await h.DrainAsync();
        await exceptions.ReplayAsync(record.Id, CancellationToken.None);
        await h.DrainAsync();

        // One credit note for both returned units (docs/accounting.md rows 1 and 6): the exchange invoice settles its half.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(("posted", -(25.00m + 25.00m)), (note.State, note.Number("total_amount")));
        var exchange = Assert.Single(h.TakeExchangeMessages());
        await h.DeliverExchangeAsync(exchange);
        Assert.Single(h.ExchangeOrders(r.ReturnId));
    }

    [Fact]
    public async Task Processed_signal_from_loop_after_a_close_without_processing_posts_the_money_once_and_resolves_the_record()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithGiftCard(25.00m).WithoutProcessing()).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());
        Assert.Equal(ExceptionCategory.ClosedWithoutProcessing, Assert.Single(await h.ExceptionRecordsAsync()).Category);
        Assert.Empty(h.Journals(r.ReturnId, "SC"));

        // Loop's third-party gift-card webhook fires when a store-credit return is processed.
        var giftCard = LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, 25.00m);
        await h.SendAsync(giftCard);
        await h.SendAsync(r.Closed());

        var journal = Assert.Single(h.Journals(r.ReturnId, "SC"));
        Assert.Equal(("posted", 25.00m), (journal.State, h.JournalLines(journal.Id).Sum(l => l.Number("credit"))));
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionStatus.Resolved, record.Status);
        Assert.Contains("giftcard.requested", record.ResolutionNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closed_payload_without_signs_is_confirmed_by_loops_return_details_before_the_money_posts()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithoutProcessing()).AddTo(h.Loop);
        await h.SendAsync(r.Created_());

        // CX processed it in Loop Admin: Loop holds the refund, but this return.closed body shows none of it.
        h.Loop.SetState(r.ReturnId, "closed", sendWebhook: false);
        await h.SendAsync(r.Closed());

        Assert.Equal(-25.00m, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        Assert.Empty(await h.ExceptionRecordsAsync());
        var verdict = await h.Ledger.GetStepAsync(r.ReturnId, ReturnSteps.LoopProcessed, CancellationToken.None);
        Assert.Contains("Loop return details", verdict?.DocumentId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_field_of_loops_return_details_confirms_processing()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Returns:ProcessedDetailFields:0"] = "was_processed" });
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithoutProcessing());
        var inLoop = r.Json("closed", 120);
        inLoop["was_processed"] = true;
        h.Loop.AddReturn(inLoop, sendCreatedWebhook: false);

        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());

        Assert.Equal(-25.00m, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Cancelled_return_keeps_cancelling_its_return_order_and_raises_no_processing_question()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Webhook("return.updated", "cancelled", 60));

        // Tryton keeps a processing return sale processing; its draft return shipment is what gets cancelled.
        Assert.Equal("processing", h.ReturnOrder(r.ReturnId).State);
        Assert.All(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), h.ReturnOrder(r.ReturnId).Id)), s => Assert.Equal("cancelled", s.State));
        Assert.Empty(await h.ExceptionRecordsAsync());
        Assert.Empty(h.CreditNotes(r.ReturnId));
        Assert.DoesNotContain(h.Loop.Requests, q => q.Path.Contains("/warehouse/return/details", StringComparison.Ordinal));
    }

    /// <summary>The sandbox's stored return as Loop would send it on <paramref name="trigger"/>.</summary>
    internal static byte[] SandboxWebhook(OutcomesHarness h, string returnId, string trigger)
    {
        var body = h.Loop.GetReturn(returnId) ?? throw new InvalidOperationException($"No sandbox return {returnId}.");
        body["topic"] = "return";
        body["trigger"] = trigger;
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }
}
