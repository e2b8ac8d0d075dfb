using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The returns pipeline end to end over real parts: signed webhook → ingress → bus → handler → Fulfil sandbox (HTTP),
/// with the ledger and exception records in Azurite.
/// </summary>
public sealed class ReturnEventHandlerTests
{
    [Fact]
    public async Task Return_created_makes_one_return_order_keyed_by_return_id_whose_shipment_comes_into_the_warehouse_input()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale()
            .WithUnits(Demo.TeeM, 2, 25.00m, "11001")
            .WithUnits(Demo.Hoodie, 1, 79.99m, "11002");

        var deliveries = await h.SendAsync(r.Webhook("return.created"));

        var delivery = Assert.Single(deliveries);
        AssertOutcome(ReturnHandlingOutcome.Reconciled, delivery);
        var order = Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Equal("LOOP-" + r.ReturnId, order.Text("reference"));
        var lines = h.LinesOf(order.Id);
        Assert.Equal(-2m, lines.Single(l => l.Ref("product") == h.Fulfil.State.ProductId(Demo.TeeM)).Number("quantity"));
        Assert.Equal(-1m, lines.Single(l => l.Ref("product") == h.Fulfil.State.ProductId(Demo.Hoodie)).Number("quantity"));
        // No location argument: quarantine is reached later through the shipment (customer → input → quarantine).
        var shipment = Assert.Single(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), order.Id)));
        var input = h.Fulfil.State.LocationId(FulfilSandboxDemo.InputLocationCode);
        Assert.All(h.Fulfil.State.Where("stock.move", m => Equals(m.GetValueOrDefault("shipment"), "stock.shipment.out.return," + shipment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            m => Assert.Equal(input, m.Ref("to_location")));
        var step = await h.Ledger.GetStepAsync(r.ReturnId, ReturnSteps.ReturnOrder, CancellationToken.None);
        Assert.Equal(StepStatus.Done, step!.Status);
        Assert.Equal(order.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), step.DocumentId);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Same_webhook_five_times_and_closed_before_created_yield_exactly_one_return_order()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var created = LoopReturnBuilder.ForDemoSale("#1003").WithUnits("SOCK-3PK", 2, 12.00m, "13001");
        var closed = LoopReturnBuilder.ForDemoSale("#1003", created.ReturnId).WithUnits("SOCK-3PK", 2, 12.00m, "13001")
            .WithState("closed").EditedAtMinutes(90);

        // Loop delivered the close first (its created webhook was delayed), then the created one five times.
        await h.PostWebhookAsync(closed.Webhook("return.closed"));
        for (var i = 0; i < 5; i++)
        {
            await h.PostWebhookAsync(created.Webhook("return.created"));
        }

        var deliveries = await h.DrainAsync();

        Assert.Equal(6, deliveries.Count);
        AssertOutcome(ReturnHandlingOutcome.Reconciled, deliveries[0]);
        Assert.All(deliveries.Skip(1), d => AssertOutcome(ReturnHandlingOutcome.StaleReconciled, d));
        var order = Assert.Single(h.ReturnOrders(created.ReturnId));
        Assert.Equal(-2m, Assert.Single(h.LinesOf(order.Id)).Number("quantity"));
        Assert.Equal(1, h.Fulfil.RequestCount("PUT", "/return_order") + h.Fulfil.RequestCount("POST", "/return_order"));
        var snapshot = await h.Ledger.GetSnapshotAsync(created.ReturnId, CancellationToken.None);
        Assert.Equal("closed", snapshot!.State);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Unknown_sku_raises_one_merchandising_exception_and_posts_nothing_to_fulfil()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale("#2001").WithUnits("TEE-NEW-XS", 1, 30.00m, "21001");
        var body = r.Webhook("return.created");

        await h.SendAsync(body);
        await h.SendAsync(body);

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.SkuNotFound, record.Category);
        Assert.Equal("merchandising", record.Owner);
        Assert.Equal(r.ReturnId, record.ReturnId);
        Assert.Equal(["TEE-NEW-XS"], record.Skus);
        Assert.Equal(2, record.Attempts);
        Assert.Equal(body.Length, record.RawEventLength);
        Assert.Empty(h.ReturnOrders(r.ReturnId));
        Assert.Equal(0, h.Fulfil.RequestCount("POST", "/return_order") + h.Fulfil.RequestCount("PUT", "/return_order"));
        Assert.Empty(h.Bus.DeadLettered);
    }

    [Fact]
    public async Task Sku_created_later_then_recheck_replays_the_return_and_posts_it_once()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale("#2002").WithUnits("TEE-NEW-S", 1, 30.00m, "22001");
        await h.SendAsync(r.Webhook("return.created"));
        var rechecker = h.Rechecker;
        Assert.Equal(1, (await rechecker.RunAsync(CancellationToken.None)).StillBlocked);
        Assert.Empty(h.ReturnOrders(r.ReturnId));

        // Merchandising creates the product; the order arrives in Fulfil with it.
        h.Fulfil.State.AddProduct("TEE-NEW-S", "New tee S", 30.00m);
        var party = h.Fulfil.State.AddParty("Replay Customer");
        h.Fulfil.State.AddSale("#2002", "5550002002", party, "done", ("TEE-NEW-S", 1m, 30.00m));
        var summary = await rechecker.RunAsync(CancellationToken.None);
        await h.DrainAsync();

        Assert.Equal(1, summary.Replayed);
        Assert.Single(h.ReturnOrders(r.ReturnId));
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionStatus.Replayed, record.Status);

        // A second replay (an operator pressing replay again) finds the step done and posts nothing more.
        var again = await h.Exceptions.ReplayAsync(record.Id, CancellationToken.None);
        Assert.Equal(ReplayOutcome.Replayed, again.Outcome);
        await h.DrainAsync();
        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Equal(1, h.Fulfil.RequestCount("POST", "/return_order") + h.Fulfil.RequestCount("PUT", "/return_order"));
    }

    [Fact]
    public async Task Archived_sku_raises_sku_archived_and_posts_nothing()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale("#1004").WithUnits(FulfilSandboxDemoArchived, 1, 20.00m, "14001");

        await h.SendAsync(r.Webhook("return.created"));

        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.SkuArchived, record.Category);
        Assert.Equal([FulfilSandboxDemoArchived], record.Skus);
        Assert.Empty(h.ReturnOrders(r.ReturnId));
    }

    [Fact]
    public async Task Unknown_order_raises_order_not_found_for_operations()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale("#9999").WithUnits(Demo.TeeM, 1, 25.00m, "19001");

        var deliveries = await h.SendAsync(r.Webhook("return.created"));

        AssertOutcome(ReturnHandlingOutcome.ExceptionRaised, Assert.Single(deliveries));
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.OrderNotFound, record.Category);
        Assert.Equal("operations", record.Owner);
        Assert.Empty(h.ReturnOrders(r.ReturnId));
    }

    [Fact]
    public async Task Crash_between_fulfil_create_and_step_record_does_not_duplicate_on_redelivery()
    {
        FailStepDoneOnceStore? crashing = null;
        await using var h = await ReturnsHarness.StartAsync(wrapStore: s => crashing = new FailStepDoneOnceStore(s, ReturnSteps.ReturnOrder));
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");

        var deliveries = await h.SendAsync(r.Webhook("return.created"));

        Assert.Equal(1, crashing!.Failures);
        Assert.Equal(2, deliveries.Count);
        Assert.NotNull(deliveries[0].Error);
        Assert.Equal(2, deliveries[1].DeliveryCount);
        AssertOutcome(ReturnHandlingOutcome.Reconciled, deliveries[1]);
        var order = Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Equal(1, h.Fulfil.RequestCount("POST", "/return_order") + h.Fulfil.RequestCount("PUT", "/return_order"));
        var step = await h.Ledger.GetStepAsync(r.ReturnId, ReturnSteps.ReturnOrder, CancellationToken.None);
        Assert.Equal(StepStatus.Done, step!.Status);
        Assert.Equal(order.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), step.DocumentId);
        Assert.Equal(2, step.Attempts);
    }

    [Fact]
    public async Task Cancelled_before_receipt_cancels_the_return_order()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.Hoodie, 1, 79.99m, "11002");
        await h.SendAsync(r.Webhook("return.created"));
        var cancelled = LoopReturnBuilder.ForDemoSale(returnId: r.ReturnId).WithUnits(Demo.Hoodie, 1, 79.99m, "11002").WithState("cancelled").EditedAtMinutes(30);

        var deliveries = await h.SendAsync(cancelled.Webhook("return.updated"));
        await h.SendAsync(cancelled.Webhook("return.updated"));

        AssertOutcome(ReturnHandlingOutcome.Reconciled, Assert.Single(deliveries));
        var order = Assert.Single(h.ReturnOrders(r.ReturnId));
        // Tryton keeps the processing return sale processing (sale.cancel skips it); its draft return shipment is cancelled.
        Assert.Equal("processing", order.State);
        Assert.All(h.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), order.Id)), s => Assert.Equal("cancelled", s.State));
        Assert.True(await h.Ledger.IsDoneAsync(r.ReturnId, ReturnSteps.ReturnOrderCancel, CancellationToken.None));
        Assert.Equal(1, h.Fulfil.RequestCount("PUT", $"sale.sale/{order.Id}/cancel"));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Cancelled_after_receipt_raises_return_state_conflict_and_keeps_the_return_order()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        await h.SendAsync(r.Webhook("return.created"));
        var orderId = Assert.Single(h.ReturnOrders(r.ReturnId)).Id;
        var shipment = Assert.Single(await h.FulfilClient.GetCustomerReturnShipmentsAsync(orderId));
        await h.FulfilClient.ReceiveCustomerReturnShipmentAsync(shipment.Id);
        var cancelled = LoopReturnBuilder.ForDemoSale(returnId: r.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("cancelled").EditedAtMinutes(45);

        var deliveries = await h.SendAsync(cancelled.Webhook("return.updated"));

        AssertOutcome(ReturnHandlingOutcome.ExceptionRaised, Assert.Single(deliveries));
        var record = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.ReturnStateConflict, record.Category);
        Assert.Equal(new ExceptionOptions().OwnerOf(ExceptionCategory.ReturnStateConflict), record.Owner);
        Assert.NotEqual("cancelled", h.Fulfil.State.Get("sale.sale", orderId).State);
        Assert.False(await h.Ledger.IsDoneAsync(r.ReturnId, ReturnSteps.ReturnOrderCancel, CancellationToken.None));
    }

    [Fact]
    public async Task Fulfil_503_storm_is_transient_redelivered_and_ends_with_one_return_order()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        await h.PostWebhookAsync(r.Webhook("return.created"));
        // Three attempts per call (two retries): twelve 503s outlast several deliveries.
        h.Fulfil.Faults.FailNext(12);

        var deliveries = await h.DrainAsync();

        Assert.True(deliveries.Count >= 2, $"expected redeliveries, got {deliveries.Count}");
        Assert.All(deliveries.SkipLast(1), d => Assert.IsAssignableFrom<Core.Errors.TransientIntegrationException>(d.Error));
        AssertOutcome(ReturnHandlingOutcome.Reconciled, deliveries[^1]);
        Assert.Equal(deliveries.Count, deliveries[^1].DeliveryCount);
        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Empty(h.Bus.DeadLettered);
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Stale_event_after_a_newer_one_is_skipped_without_changes()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var open = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").EditedAtMinutes(60);
        await h.SendAsync(open.Webhook("return.updated"));
        // An older "cancelled" arrives late: acting on it would cancel a live return.
        var olderCancelled = LoopReturnBuilder.ForDemoSale(returnId: open.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("cancelled").EditedAtMinutes(5);

        var deliveries = await h.SendAsync(olderCancelled.Webhook("return.updated"));

        AssertOutcome(ReturnHandlingOutcome.StaleReconciled, Assert.Single(deliveries));
        var order = Assert.Single(h.ReturnOrders(open.ReturnId));
        Assert.NotEqual("cancelled", order.State);
        var snapshot = await h.Ledger.GetSnapshotAsync(open.ReturnId, CancellationToken.None);
        Assert.Equal("open", snapshot!.State);
        Assert.Equal(open.EditedAt, snapshot.EventTime);
        Assert.Equal(0, h.Fulfil.RequestCount("POST", "/cancel") + h.Fulfil.RequestCount("PUT", "/cancel"));
    }

    [Fact]
    public async Task Label_event_before_any_return_event_fetches_the_return_from_loop_and_records_the_event()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").AddTo(h.Loop);

        var deliveries = await h.SendAsync(r.LabelUpdated("in_transit"));

        AssertOutcome(ReturnHandlingOutcome.Reconciled, Assert.Single(deliveries));
        Assert.Single(h.ReturnOrders(r.ReturnId));
        var recorded = Assert.Single(await h.Ledger.GetEventsAsync(r.ReturnId, "label.updated", CancellationToken.None));
        Assert.Equal(r.LabelUpdated("in_transit"), recorded.Body);
        Assert.NotNull(await h.Ledger.GetSnapshotAsync(r.ReturnId, CancellationToken.None));
    }

    [Fact]
    public async Task Snapshot_fetched_from_loop_is_stored_at_its_webhook_time_so_a_delayed_older_webhook_does_not_reopen_it()
    {
        await using var h = await ReturnsHarness.StartAsync();
        // Loop closed the return at its created_at; its label_updated_at is two seconds later, as on a webhook of it.
        var closed = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("closed").AddTo(h.Loop);
        var open = LoopReturnBuilder.ForDemoSale(returnId: closed.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        var labelAt = DateTimeOffset.Parse(closed.ReturnJson()["label_updated_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

        await h.SendAsync(closed.LabelUpdated("in_transit"));             // no snapshot yet: fetched from Loop
        var late = await h.SendAsync(open.Webhook("return.created"));     // Loop's created webhook, delayed past the close

        AssertOutcome(ReturnHandlingOutcome.StaleReconciled, Assert.Single(late));
        var snapshot = await h.Ledger.GetSnapshotAsync(closed.ReturnId, CancellationToken.None);
        Assert.Equal(("closed", labelAt), (snapshot!.State, snapshot.EventTime));
    }

    [Fact]
    public async Task Restock_event_is_recorded_once_and_reconciles_the_stored_snapshot()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        await h.SendAsync(r.Webhook("return.created"));

        await h.SendAsync(r.RestockRequested());
        var again = await h.SendAsync(r.RestockRequested());

        AssertOutcome(ReturnHandlingOutcome.Reconciled, Assert.Single(again));
        Assert.Single(await h.Ledger.GetEventsAsync(r.ReturnId, "restock.requested", CancellationToken.None));
        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Empty(h.Loop.Requests);
    }

    [Fact]
    public async Task Flag_in_loop_option_flags_and_notes_the_return_and_a_loop_outage_keeps_the_record()
    {
        await using var h = await ReturnsHarness.StartAsync(flagReturnInLoop: true);
        var flagged = LoopReturnBuilder.ForDemoSale("#9998").WithoutProviderOrderId().WithUnits(Demo.TeeM, 1, 25.00m, "19001").AddTo(h.Loop);
        var outage = LoopReturnBuilder.ForDemoSale("#9997").WithoutProviderOrderId().WithUnits(Demo.TeeM, 1, 25.00m, "19002").AddTo(h.Loop);

        await h.SendAsync(flagged.Webhook("return.created"));
        h.Loop.Faults.FailNext(50);
        await h.SendAsync(outage.Webhook("return.created"));
        h.Loop.Faults.Reset();

        Assert.Equal(1, h.Loop.FlagCount(flagged.ReturnId));
        var note = Assert.Single(h.Loop.GetNotes(flagged.ReturnId));
        Assert.Contains(nameof(ExceptionCategory.OrderNotFound), note, StringComparison.Ordinal);
        Assert.True(note.Length <= 254);
        Assert.Equal(0, h.Loop.FlagCount(outage.ReturnId));
        var records = await h.ExceptionRecordsAsync();
        Assert.Equal(2, records.Count);
        Assert.Contains(records, x => x.ReturnId == outage.ReturnId && x.Category == ExceptionCategory.OrderNotFound);
        Assert.Empty(h.Bus.DeadLettered);
    }

    /// <summary>Outcome check that shows the raised exceptions (or the error) when it fails.</summary>
    private static void AssertOutcome(ReturnHandlingOutcome expected, BusDelivery delivery)
    {
        var detail = delivery.Error?.ToString()
            ?? string.Join(" | ", delivery.Result!.Exceptions.Select(e => $"{e.Category}: {e.Message}"));
        Assert.True(delivery.Result?.Outcome == expected, $"expected {expected}, got {delivery.Result?.Outcome}: {detail}");
    }

    private const string FulfilSandboxDemoArchived = LoopFulfil.Sandbox.Fulfil.FulfilSandboxDemo.ArchivedSku;
}
