using System.Globalization;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.CommerceSync;

/// <summary>The commerce push against both sandboxes over real HTTP, with mappings and checkpoints in Azurite.</summary>
public class CommerceSyncJobTests
{
    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static int SaleId(FulfilSandbox fulfil, string reference) =>
        fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("reference"), reference) && !Equals(r.GetValueOrDefault("is_return"), true)).Single().Id;

    private static void ShipAllDemoSales(FulfilSandbox fulfil)
    {
        foreach (var reference in new[] { "#1001", "#1002", "#1003", "#1004" })
        {
            fulfil.State.ShipSale(SaleId(fulfil, reference));
        }
    }

    [Fact]
    public async Task Backfill_sends_every_product_and_variant_before_the_orders_whose_lines_reference_them()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        ShipAllDemoSales(h.Fulfil);

        var result = await h.RunAsync(SyncMode.Backfill);

        Assert.True(result.Completed);
        Assert.Equal(0, result.Failed);
        var writes = h.Loop.CommerceWrites;
        var orderWrites = writes.Where(w => w.Resource == "orders").ToList();
        Assert.Equal(4, orderWrites.Count);
        foreach (var orderWrite in orderWrites)
        {
            var order = h.Loop.GetCommerceRecord("orders", orderWrite.Key)!;
            var lines = order["line_items"]!.AsArray();
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                var productId = line!["product"]!["id"]!.ToString();
                var variantId = line["product_variant"]!["id"]!.ToString();
                Assert.Contains(writes, w => w.Resource == "products" && w.LoopId == productId && w.Sequence < orderWrite.Sequence);
                Assert.Contains(writes, w => w.Resource == "variants" && w.LoopId == variantId && w.Sequence < orderWrite.Sequence);
            }
        }

        // #1001's lines point at the Loop variants of exactly the Fulfil products sold on them.
        var sale = h.Fulfil.State.Get("sale.sale", SaleId(h.Fulfil, "#1001"));
        var loopOrder = h.Loop.GetCommerceRecord("orders", Id(sale.Id))!;
        foreach (var lineId in sale.Ids("lines"))
        {
            var fulfilLine = h.Fulfil.State.Get("sale.line", lineId);
            var loopLine = loopOrder["line_items"]!.AsArray().Single(l => l!["external_id"]!.ToString() == Id(lineId))!;
            var variant = h.Loop.GetCommerceRecord("variants", Id(fulfilLine.Ref("product")!.Value))!;
            Assert.Equal(variant["id"]!.ToString(), loopLine["product_variant"]!["id"]!.ToString());
            Assert.Equal(fulfilLine.Number("quantity"), loopLine["quantity"]!.GetValue<int>());
        }

        Assert.Equal("#1001", loopOrder["name"]!.ToString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", loopOrder["created_at"]!.ToString());
        Assert.Equal(12999, loopOrder["total_price"]!["amount"]!.GetValue<long>()); // 2 × 25.00 + 79.99 in cents
        Assert.Equal(2, loopOrder["fulfillments"]!.AsArray().Single()!["line_items"]!.AsArray().Count);
        Assert.Equal("active", loopOrder["status"]!.ToString()); // done in Fulfil: shipped, so returnable
        Assert.Equal("active", h.Loop.GetCommerceRecord("orders", Id(SaleId(h.Fulfil, "#1002")))!["status"]!.ToString());
    }

    [Fact]
    public async Task Mappings_hold_fulfil_and_loop_ids_with_the_sent_outcome_and_a_content_hash()
    {
        await using var h = await CommerceSyncHarness.StartAsync();

        await h.RunAsync(SyncMode.Backfill);

        var productId = h.Fulfil.State.ProductId("HOOD/GRY:XL");
        var variant = await h.MappingAsync(CommerceKinds.Variant, productId);
        var loopVariant = h.Loop.GetCommerceRecord("variants", Id(productId))!;
        Assert.NotNull(variant);
        Assert.Equal(CommerceOutcome.Sent, variant.Outcome);
        Assert.Equal(loopVariant["id"]!.ToString(), variant.LoopId);
        Assert.Matches("^[0-9A-F]{32}$", variant.ContentHash!);
        Assert.Equal(7999, loopVariant["price"]!["amount"]!.GetValue<long>());
        Assert.Equal("HOOD/GRY:XL", loopVariant["sku"]!.ToString());

        var templateId = h.Fulfil.State.Get("product.product", productId).Ref("template")!.Value;
        Assert.Equal(Id(templateId), variant.ParentId);
        var product = await h.MappingAsync(CommerceKinds.Product, templateId);
        Assert.Equal(h.Loop.GetCommerceRecord("products", Id(templateId))!["id"]!.ToString(), product!.LoopId);

        var saleId = SaleId(h.Fulfil, "#1002");
        var order = await h.MappingAsync(CommerceKinds.Order, saleId);
        Assert.Equal(h.Loop.GetCommerceRecord("orders", Id(saleId))!["id"]!.ToString(), order!.LoopId);
        Assert.Equal("active", order.Status);

        var partyId = h.Fulfil.State.Get("sale.sale", saleId).Ref("party")!.Value;
        var customer = await h.MappingAsync(CommerceKinds.Customer, partyId);
        Assert.Equal(h.Loop.GetCommerceRecord("customers", Id(partyId))!["id"]!.ToString(), customer!.LoopId);
        Assert.Equal(customer.LoopId, h.Loop.GetCommerceRecord("orders", Id(saleId))!["customer"]!["id"]!.ToString());

        var location = await h.MappingAsync(CommerceKinds.Location, FulfilSandboxDemo.WarehouseId);
        Assert.Equal(h.Loop.GetCommerceRecord("locations", Id(FulfilSandboxDemo.WarehouseId))!["id"]!.ToString(), location!.LoopId);

        // Only the warehouse is a Loop location: storage, quarantine and damaged are places inside it.
        Assert.Single(h.Loop.CommerceWrites, w => w.Resource == "locations");
    }

    [Fact]
    public async Task A_rerun_with_nothing_changed_makes_no_loop_writes()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        ShipAllDemoSales(h.Fulfil);
        await h.RunAsync(SyncMode.Backfill);
        var before = h.LoopWrites;
        Assert.True(before > 0);

        var incremental = await h.RunAsync(SyncMode.Incremental);
        var fullPass = await h.RunAsync(SyncMode.FullPass);

        Assert.Empty(h.WritesSince(before));
        Assert.Equal(0, incremental.LoopWrites);
        Assert.Equal(0, fullPass.LoopWrites);
        Assert.True(fullPass.Completed);

        // The full pass really looked at everything again: it found the records unchanged rather than skipping them.
        Assert.True(fullPass.Entities.Single(e => e.Entity == CommerceKinds.Variant).Unchanged >= FulfilSandboxDemo.Catalog.Count);
        Assert.Equal(4, fullPass.Entities.Single(e => e.Entity == CommerceKinds.Order).Unchanged);
    }

    [Fact]
    public async Task A_changed_price_in_fulfil_costs_exactly_one_variant_upsert()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        await h.RunAsync(SyncMode.Backfill);
        var before = h.LoopWrites;
        var productId = h.Fulfil.State.ProductId("TEE-BLK-L");

        h.Fulfil.State.SetProductPrice("TEE-BLK-L", 27.50m);
        var result = await h.RunAsync(SyncMode.Incremental);

        var write = Assert.Single(h.WritesSince(before));
        Assert.Equal("variants", write.Resource);
        Assert.Equal(Id(productId), write.Key);
        Assert.False(write.Created);
        Assert.Equal(2750, h.Loop.GetCommerceRecord("variants", Id(productId))!["price"]!["amount"]!.GetValue<long>());
        Assert.Equal(1, result.LoopWrites);
    }

    [Fact]
    public async Task A_backfill_stopped_by_its_budget_resumes_where_it_stopped_without_duplicate_writes()
    {
        await using var h = await CommerceSyncHarness.StartAsync(new Dictionary<string, string?>
        {
            // Counted in work, not milliseconds: each run stops taking work after 20 Loop writes.
            ["CommerceSync:RunWriteBudget"] = "20",
            ["CommerceSync:PageSize"] = "7",
            ["CommerceSync:MaxConcurrency"] = "3",
        });
        var state = h.Fulfil.State;
        var party = state.AddParty("Budget Customer");
        for (var i = 0; i < 40; i++)
        {
            var sku = $"BUDGET-{i:00}";
            state.AddProduct(sku, $"Budget item {i}", 10m + i);
            state.SetStock(sku, FulfilSandboxDemo.SellableLocationCode, i);
        }

        for (var i = 0; i < 25; i++)
        {
            state.AddSale($"#B{i:000}", null, party, "processing", ($"BUDGET-{i:00}", 1m, 10m + i), ($"BUDGET-{(i + 7) % 40:00}", 2m, 17m));
        }

        var runs = new List<CommerceSyncResult>();
        do
        {
            runs.Add(await h.RunAsync(SyncMode.Backfill));
        }
        while (!runs[^1].Completed && runs.Count < 300);

        Assert.True(runs[^1].Completed, "the backfill never finished");
        Assert.True(runs.Count > 1, "the budget never interrupted the backfill, so resuming was not exercised");
        Assert.Contains(runs, r => r.StoppedByBudget);
        // Writes already in flight when the budget is reached still finish, so a run may exceed it by at most the concurrency.
        Assert.All(runs, r => Assert.InRange(r.LoopWrites, 0, 20 + 3));

        var writes = h.Loop.CommerceWrites;
        var duplicates = writes.GroupBy(w => (w.Resource, w.Key)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        Assert.All(writes, w => Assert.True(w.Created));
        Assert.Equal(47, writes.Count(w => w.Resource == "variants")); // 40 + 6 demo + the archived one sold on #1004
        Assert.Equal(29, writes.Count(w => w.Resource == "orders")); // 25 + #1001–#1004
        Assert.Equal(47, writes.Count(w => w.Resource == "inventories"));
        Assert.Equal(runs.Sum(r => r.LoopWrites), writes.Count);

        // And once finished, nothing is left to send.
        var again = await h.RunAsync(SyncMode.Incremental);
        Assert.Equal(0, again.LoopWrites);
    }

    [Fact]
    public async Task A_backfill_cancelled_mid_run_resumes_and_creates_every_record_in_loop_once()
    {
        const int concurrency = 3;
        var fifthOrder = new OrderWriteSignal(5);
        var settings = new Dictionary<string, string?> { ["CommerceSync:PageSize"] = "5", ["CommerceSync:MaxConcurrency"] = concurrency.ToString(CultureInfo.InvariantCulture) };
        await using var h = await CommerceSyncHarness.StartAsync(settings, configure: services => services.ConfigureHttpClientDefaults(b => b.AddHttpMessageHandler(() => new OrderWriteCounter(fifthOrder))));
        var state = h.Fulfil.State;
        var party = state.AddParty("Cancel Customer");
        for (var i = 0; i < 30; i++)
        {
            state.AddProduct($"CANCEL-{i:00}", $"Cancel item {i}", 5m + i);
            state.AddSale($"#C{i:000}", null, party, "processing", ($"CANCEL-{i:00}", 1m, 5m + i));
        }

        // Cancelled as soon as Loop has accepted the fifth order (a counted signal, not a poll).
        using var cancel = new CancellationTokenSource();
        var run = h.Job.RunAsync(SyncMode.Backfill, null, cancel.Token);
        await Task.WhenAny(fifthOrder.Reached, run);
        await cancel.CancelAsync();
        fifthOrder.Release();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var writtenBeforeResume = h.LoopWrites;
        Assert.True(h.Loop.CommerceWrites.Count(w => w.Resource == "orders") < 30, "the run finished before it could be cancelled");

        var resumed = await h.RunAsync(SyncMode.Backfill);

        Assert.True(resumed.Completed);
        var writes = h.Loop.CommerceWrites;
        Assert.All(writes.GroupBy(w => (w.Resource, w.Key)), g => Assert.Single(g, w => w.Created));
        Assert.Equal(34, writes.Count(w => w.Resource == "orders" && w.Created)); // 30 + #1001–#1004

        // What Loop had accepted before the cancellation was recorded and not sent again; at most the requests in
        // flight at that moment can have reached Loop without their answer being seen.
        var before = writes.Take(writtenBeforeResume).Select(w => (w.Resource, w.Key)).ToHashSet();
        var repeats = writes.Skip(writtenBeforeResume).Count(w => before.Contains((w.Resource, w.Key)));
        Assert.InRange(repeats, 0, concurrency);
    }

    [Fact]
    public async Task Records_created_after_the_backfill_and_never_edited_reach_loop_on_the_next_incremental_run()
    {
        // Tryton leaves write_date empty until a record's first edit (the sandbox does too): a walk over write_date
        // alone would never see these.
        await using var h = await CommerceSyncHarness.StartAsync();
        await h.RunAsync(SyncMode.Backfill);
        var before = h.LoopWrites;
        var state = h.Fulfil.State;
        var variant = state.AddProduct("CAP-RED", "Red cap", 19m);
        var party = state.AddParty("New customer");
        var sale = state.AddSale("#2001", "5550002001", party, "confirmed", ("CAP-RED", 1m, 19m));
        Assert.All(new[] { ("product.product", variant), ("party.party", party), ("sale.sale", sale) },
            r => Assert.Null(state.Get(r.Item1, r.Item2)["write_date"]));

        var result = await h.RunAsync(SyncMode.Incremental);

        var writes = h.WritesSince(before).ToList();
        Assert.Equal(1, writes.Count(w => w.Resource == "variants" && w.Key == Id(variant) && w.Created));
        Assert.Equal(1, writes.Count(w => w.Resource == "customers" && w.Key == Id(party) && w.Created));
        Assert.Equal(1, writes.Count(w => w.Resource == "orders" && w.Key == Id(sale) && w.Created));
        Assert.True(writes.FindIndex(w => w.Resource == "variants") < writes.FindIndex(w => w.Resource == "orders"));
        Assert.NotNull(h.Loop.GetCommerceRecord("orders", Id(sale)));

        // Their first edit moves them to the write-date walk; unchanged content still costs no Loop call.
        var afterFirst = h.LoopWrites;
        state.SetProductPrice("CAP-RED", 21m);
        await h.RunAsync(SyncMode.Incremental);
        var edit = Assert.Single(h.WritesSince(afterFirst));
        Assert.Equal(("variants", Id(variant)), (edit.Resource, edit.Key));
        Assert.True(result.LoopWrites >= 3);
    }

    [Fact]
    public async Task Inventory_offers_only_sellable_stock_never_quarantined_or_damaged_units()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var state = h.Fulfil.State;
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.SellableLocationCode, 40m);
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.SellableBinCode, 3m);
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.QuarantineLocationCode, 5m);
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.DamagedLocationCode, 7m);

        await h.RunAsync(SyncMode.Backfill);

        var variantId = h.Loop.GetCommerceRecord("variants", Id(state.ProductId("TEE-BLK-M")))!["id"]!.ToString();
        var locationId = h.Loop.GetCommerceRecord("locations", Id(FulfilSandboxDemo.WarehouseId))!["id"]!.ToString();
        Assert.Equal(43, h.Loop.InventoryCount(variantId, locationId));

        // More returns waiting in quarantine change nothing Loop may offer: no write at all.
        var before = h.LoopWrites;
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.QuarantineLocationCode, 12m);
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.DamagedLocationCode, 9m);
        await h.RunAsync(SyncMode.Incremental);
        Assert.Empty(h.WritesSince(before));

        // Sellable stock moving does: exactly one inventory write with the new count.
        state.SetStock("TEE-BLK-M", FulfilSandboxDemo.SellableLocationCode, 30m);
        await h.RunAsync(SyncMode.Incremental);
        var write = Assert.Single(h.WritesSince(before));
        Assert.Equal("inventories", write.Resource);
        Assert.Equal(33, h.Loop.InventoryCount(variantId, locationId));
    }

    [Fact]
    public async Task An_order_with_a_line_whose_product_cannot_be_synced_is_never_sent_and_the_reason_is_recorded()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var state = h.Fulfil.State;
        var noSku = state.AddProduct("", "Custom engraving", 15m);
        var party = state.AddParty("Engraving Customer");
        var saleId = state.AddSale("#2001", null, party, "processing", ("TEE-BLK-M", 1m, 25m), ("", 1m, 15m));

        var result = await h.RunAsync(SyncMode.Backfill);

        Assert.Null(h.Loop.GetCommerceRecord("orders", Id(saleId)));
        Assert.Null(h.Loop.GetCommerceRecord("variants", Id(noSku)));
        var mapping = await h.MappingAsync(CommerceKinds.Order, saleId);
        Assert.NotNull(mapping);
        Assert.Equal(CommerceOutcome.NotSent, mapping.Outcome);
        Assert.Null(mapping.LoopId);
        Assert.Contains($"product {noSku}", mapping.Reason, StringComparison.Ordinal);
        Assert.Contains("no SKU", mapping.Reason, StringComparison.Ordinal);
        Assert.Equal(CommerceOutcome.NotSent, (await h.MappingAsync(CommerceKinds.Variant, noSku))!.Outcome);

        // The demo orders went through; only this one was held back.
        Assert.Equal(4, h.Loop.CommerceWrites.Count(w => w.Resource == "orders"));
        Assert.Equal(1, result.Entities.Single(e => e.Entity == CommerceKinds.Order).NotSent);
    }

    [Fact]
    public async Task A_held_back_order_is_raised_once_for_ecommerce_and_is_sent_and_resolved_by_the_run_after_its_product_is_fixed()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var state = h.Fulfil.State;
        var noSku = state.AddProduct("", "Custom engraving", 15m);
        var party = state.AddParty("Engraving Customer");
        var saleId = state.AddSale("#2001", null, party, "processing", ("TEE-BLK-M", 1m, 25m), ("", 1m, 15m));

        await h.RunAsync(SyncMode.Backfill);
        await h.RunAsync(SyncMode.FullPass);
        await h.RunAsync(SyncMode.Incremental);

        var open = await OpenCommerceProblemsAsync(h);
        var order = Assert.Single(open, r => r.DetailKey == $"{CommerceKinds.Order}:{saleId}");
        Assert.Equal("ecommerce", order.Owner);
        Assert.Null(order.ReturnId);
        Assert.Equal(CommerceSyncJob.ExceptionSource, order.Source);
        Assert.Contains("no SKU", order.Message, StringComparison.Ordinal);
        // Three runs met the same problem; the owner was told once per problem, not once per run.
        Assert.Equal(1, order.Attempts);
        Assert.Equal(1, Assert.Single(open, r => r.DetailKey == $"{CommerceKinds.Variant}:{noSku}").Attempts);

        // Fixing the product moves its write_date, not the order's: the order must still follow it.
        state.SetProductCode(noSku, "ENGRAVE-1");
        var before = h.LoopWrites;
        await h.RunAsync(SyncMode.Incremental);

        Assert.Equal(1, h.WritesSince(before).Count(w => w.Resource == "orders" && w.Key == Id(saleId)));
        Assert.NotNull(h.Loop.GetCommerceRecord("orders", Id(saleId)));
        Assert.Equal(CommerceOutcome.Sent, (await h.MappingAsync(CommerceKinds.Order, saleId))!.Outcome);
        Assert.Empty(await OpenCommerceProblemsAsync(h));
        var resolved = await h.Exceptions.GetAsync(order.Id, CancellationToken.None);
        Assert.Equal(ExceptionStatus.Resolved, resolved!.Status);

        // And a later run has nothing left to retry.
        var after = h.LoopWrites;
        await h.RunAsync(SyncMode.Incremental);
        Assert.Empty(h.WritesSince(after));
    }

    private static async Task<List<ExceptionRecord>> OpenCommerceProblemsAsync(CommerceSyncHarness h)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in h.Exceptions.ListAsync(ExceptionStatus.Open, ExceptionCategory.CommerceRecordNotSent, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    [Fact]
    public async Task A_return_order_in_fulfil_becomes_a_refund_on_the_loop_order()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var saleId = SaleId(h.Fulfil, "#1002");
        h.Fulfil.State.ShipSale(saleId);
        await h.RunAsync(SyncMode.Backfill);
        var fulfil = h.Services.GetRequiredService<IFulfilClient>();
        var sale = await fulfil.GetSaleAsync(saleId);
        var capLine = sale.Lines.Single(l => l.ProductCode == "CAP/RED:OS");

        await fulfil.CreateReturnOrderAsync(new FulfilReturnOrderRequest(saleId, "loop-ret-1", null, [new FulfilReturnLineRequest(capLine.Id, 1m, null, "loop-line-1", "Too small")]));
        var before = h.LoopWrites;
        await h.RunAsync(SyncMode.Incremental);

        var write = Assert.Single(h.WritesSince(before));
        Assert.Equal("orders", write.Resource);
        Assert.Equal(Id(saleId), write.Key);
        var refund = h.Loop.GetCommerceRecord("orders", Id(saleId))!["refunds"]!.AsArray().Single()!;
        Assert.Equal(1950, refund["amount"]!["amount"]!.GetValue<long>());
        Assert.Equal(Id(capLine.Id), refund["line_item"]!["external_id"]!.ToString());
        Assert.Equal(1, refund["line_item"]!["quantity"]!.GetValue<int>());
        Assert.Equal("active", h.Loop.GetCommerceRecord("orders", Id(saleId))!["status"]!.ToString()); // the jeans are still returnable
    }

    [Fact]
    public async Task The_full_pass_archives_orders_that_left_the_return_window()
    {
        await using var h = await CommerceSyncHarness.StartAsync(new Dictionary<string, string?> { ["CommerceSync:ReturnWindowDays"] = "30" });
        var saleId = SaleId(h.Fulfil, "#1002");
        await h.RunAsync(SyncMode.Backfill);
        Assert.Equal("active", h.Loop.GetCommerceRecord("orders", Id(saleId))!["status"]!.ToString());

        h.Fulfil.State.SetSaleDate(saleId, h.Today.AddDays(-45));
        var incremental = await h.RunAsync(SyncMode.Incremental);
        Assert.Equal(0, incremental.LoopWrites); // out of the window: the incremental walk no longer sees it
        var before = h.LoopWrites;
        await h.RunAsync(SyncMode.FullPass);

        var write = Assert.Single(h.WritesSince(before));
        Assert.Equal(Id(saleId), write.Key);
        Assert.Equal("archived", h.Loop.GetCommerceRecord("orders", Id(saleId))!["status"]!.ToString());
        Assert.Equal("archived", (await h.MappingAsync(CommerceKinds.Order, saleId))!.Status);
    }

    [Fact]
    public async Task Progress_reports_done_against_total_with_the_loop_rate()
    {
        await using var h = await CommerceSyncHarness.StartAsync();
        var progress = new ProgressLog();

        var result = await h.RunAsync(SyncMode.Backfill, progress);

        var last = progress.Reports[^1];
        Assert.Equal(last.Total, last.Done);
        Assert.True(last.Done > 0);
        Assert.Equal(result.LoopWrites, last.LoopWrites);
        Assert.True(last.LoopRequestsPerSecond > 0);
        Assert.Equal(TimeSpan.Zero, last.EstimatedRemaining);
        Assert.Contains(progress.Reports, p => p.Done < p.Total && p.EstimatedRemaining > TimeSpan.Zero);
        Assert.Contains(progress.Reports, p => p.Phase == CommerceKinds.Order);
    }

    [Fact]
    public async Task A_disabled_sync_sends_nothing()
    {
        await using var h = await CommerceSyncHarness.StartAsync(new Dictionary<string, string?> { ["CommerceSync:Enabled"] = "false" });

        var result = await h.RunAsync(SyncMode.Backfill);

        Assert.False(result.Completed);
        Assert.Equal(0, h.LoopWrites);
        Assert.Empty(h.Loop.Requests);
    }

    [Fact]
    public void Order_status_is_cancelled_archived_when_fully_returned_or_out_of_window_else_from_the_sale_state()
    {
        var today = new DateOnly(2025, 6, 1);
        var window = today.AddDays(-90);
        FulfilSale Sale(string state, DateOnly date) => new(1, "#1", "SO1", state, 1, null, null, null, null, null, 1, date, 10m,
            [new FulfilSaleLine(11, 5, "A", 2m, 5m, null, null), new FulfilSaleLine(12, null, null, 1m, 0m, null, "Shipping")], []);

        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Active, CommerceMapper.Status(Sale("processing", today), new Dictionary<int, decimal>(), window));
        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Cancelled, CommerceMapper.Status(Sale("cancelled", today), new Dictionary<int, decimal>(), window));
        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Archived, CommerceMapper.Status(Sale("processing", today), new Dictionary<int, decimal> { [11] = 2m }, window));
        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Active, CommerceMapper.Status(Sale("processing", today), new Dictionary<int, decimal> { [11] = 1m }, window));
        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Archived, CommerceMapper.Status(Sale("processing", window.AddDays(-1)), new Dictionary<int, decimal>(), window));
        Assert.Equal(Core.Loop.Models.LoopOrderStatus.Unknown, CommerceMapper.Status(Sale("quotation", today), new Dictionary<int, decimal>(), window));
    }

    [Fact]
    public void Money_goes_to_loop_in_minor_units_by_currency_exponent()
    {
        var template = new FulfilProductTemplate(1, "Teapot", 1234.5m, true, null);
        var variant = new FulfilProduct(2, "TEA-1", "Teapot blue", true, 1, null, null);

        Assert.Equal(123450, CommerceMapper.Variant(variant, template, "USD").Price!.Amount);
        Assert.Equal(1235, CommerceMapper.Variant(variant, template, "JPY").Price!.Amount);
        Assert.Equal(1234500, CommerceMapper.Variant(variant, template, "KWD").Price!.Amount);
        Assert.Equal(123450, CommerceMapper.Product(template, null, "fulfil", "USD").Price);
    }

    [Fact]
    public void The_content_hash_changes_with_the_body_and_only_with_it()
    {
        var a = CommerceMapper.Variant(new FulfilProduct(2, "TEA-1", "Teapot", true, 1, 10m, null), null, "USD");
        var same = CommerceMapper.Variant(new FulfilProduct(2, "TEA-1", "Teapot", true, 1, 10m, new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc)), null, "USD");
        var dearer = CommerceMapper.Variant(new FulfilProduct(2, "TEA-1", "Teapot", true, 1, 10.01m, null), null, "USD");

        Assert.Equal(CommerceMapper.Hash(a), CommerceMapper.Hash(same));
        Assert.NotEqual(CommerceMapper.Hash(a), CommerceMapper.Hash(dearer));
        Assert.NotEqual(CommerceMapper.Hash(a, "1"), CommerceMapper.Hash(a, "2"));
    }
}
