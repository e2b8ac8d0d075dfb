using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Fulfil;

/// <summary>Every typed operation against the simulated Fulfil over real HTTP.</summary>
public class FulfilClientTests
{
    private const string Quarantine = FulfilSandboxDemo.QuarantineLocationCode;
    private const string Sellable = FulfilSandboxDemo.SellableLocationCode;

    [Fact]
    public async Task Products_by_sku_come_back_in_one_search_with_archived_ones_told_apart_from_missing()
    {
        await using var host = await FulfilTestHost.StartAsync();

        var products = await host.Client.GetProductsBySkusAsync(["HOOD/GRY:XL", "CAP/RED:OS", FulfilSandboxDemo.ArchivedSku, "NO-SUCH-SKU"]);

        Assert.Equal(1, host.Sandbox.RequestCount("PUT", "product.product/search_read"));
        Assert.Equal(3, products.Count);
        var hoodie = Assert.Single(products, p => p.Sku == "HOOD/GRY:XL");
        Assert.True(hoodie.Active);
        Assert.Equal(79.99m, hoodie.ListPrice);
        Assert.NotNull(hoodie.TemplateId);
        Assert.False(Assert.Single(products, p => p.Sku == FulfilSandboxDemo.ArchivedSku).Active);
        Assert.DoesNotContain(products, p => p.Sku == "NO-SUCH-SKU");
    }

    [Fact]
    public async Task Never_edited_records_are_walked_by_create_date_and_edited_ones_by_write_date_without_overlap()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 1, 10, 8, 0, 0, TimeSpan.Zero));
        await using var host = await FulfilTestHost.StartAsync(sandboxOptions: new FulfilSandboxOptions { TimeProvider = clock });
        var all = await host.Client.GetProductsBySkusAsync(["HOOD/GRY:XL", "SOCK-3PK", FulfilSandboxDemo.ArchivedSku]);
        clock.Advance(TimeSpan.FromDays(20));
        host.Sandbox.State.SetProductActive("SOCK-3PK", false);
        IReadOnlyList<object?> activeOrArchived = [new object[] { "active", "in", new object[] { true, false } }];

        var created = await host.Client.GetModifiedAsync(new FulfilModifiedQuery("product.product", null, 1000, activeOrArchived, Stamp: FulfilStampField.CreateDate));
        var written = await host.Client.GetModifiedAsync(new FulfilModifiedQuery("product.product", null, 1000, activeOrArchived));
        var writtenLater = await host.Client.GetModifiedAsync(new FulfilModifiedQuery("product.product", new FulfilCursor(new DateTime(2025, 1, 20, 0, 0, 0, DateTimeKind.Utc), 0), 1000, activeOrArchived));

        var socks = Assert.Single(all, p => p.Sku == "SOCK-3PK").Id;
        Assert.Equal(new DateTime(2025, 1, 30, 8, 0, 0, DateTimeKind.Utc), Assert.Single(written, s => s.Id == socks).WriteDate);
        Assert.Equal(socks, Assert.Single(writtenLater).Id);
        var total = await host.Client.CountModifiedAsync(new FulfilModifiedQuery("product.product", null, 1, activeOrArchived)) + created.Count;
        Assert.Equal(created.Count + written.Count, created.Select(s => s.Id).Union(written.Select(s => s.Id)).Count());
        Assert.Equal(total, created.Count + written.Count);
        Assert.DoesNotContain(created, s => s.Id == socks);
        Assert.Contains(created, s => s.Id == Assert.Single(all, p => p.Sku == "HOOD/GRY:XL").Id);
        Assert.All(created, s => Assert.Equal(new DateTime(2025, 1, 10, 8, 0, 0, DateTimeKind.Utc), s.WriteDate));
        Assert.Equal(created.Select(s => s.Id).Order(), created.Select(s => s.Id));
        Assert.Equal(await host.Client.CountModifiedAsync(new FulfilModifiedQuery("product.product", null, 1, activeOrArchived, Stamp: FulfilStampField.CreateDate)), created.Count);
    }

    [Fact]
    public async Task Sale_is_found_by_reference_or_channel_identifier_with_its_lines()
    {
        await using var host = await FulfilTestHost.StartAsync();

        var byReference = await host.Client.FindSaleByReferenceAsync("#1001");
        var byChannel = await host.Client.FindSaleByChannelIdentifierAsync("5550001001");
        var viaLookup = await host.Client.FindOriginalSaleAsync("#1001", "5550001001");
        var missing = await host.Client.FindSaleByReferenceAsync("#9999");

        Assert.NotNull(byReference);
        Assert.Equal(byReference.Id, byChannel!.Id);
        Assert.Equal(byReference.Id, viaLookup!.Id);
        Assert.Null(missing);
        Assert.Equal("done", byReference.State);
        Assert.Equal(129.99m, byReference.TotalAmount);
        var tee = Assert.Single(byReference.Lines, l => l.ProductCode == "TEE-BLK-M");
        Assert.Equal(2m, tee.Quantity);
        Assert.Equal(25.00m, tee.UnitPrice);
        Assert.Contains(byReference.Lines, l => l.ProductCode == "HOOD/GRY:XL" && l.UnitPrice == 79.99m);
    }

    [Fact]
    public async Task Return_order_is_created_once_per_loop_return_and_its_shipment_receives_into_storage_by_default()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var sale = (await host.Client.FindSaleByReferenceAsync("#1001"))!;
        var line = sale.Lines.Single(l => l.ProductCode == "TEE-BLK-M");
        var request = new FulfilReturnOrderRequest(sale.Id, "6042537", "RMA-6042537", [new FulfilReturnLineRequest(line.Id, 1m, 22.50m, "59160778", "Too big")]);
        var sellableBefore = host.Sandbox.State.StockOf("TEE-BLK-M", Sellable);
        var salesBefore = host.Sandbox.State.Count("sale.sale");

        var created = await host.Client.CreateReturnOrderAsync(request);
        var again = await host.Client.CreateReturnOrderAsync(request);
        var found = await host.Client.FindReturnOrderAsync("6042537");

        Assert.Equal(created.Id, again.Id);
        Assert.Equal(created.Id, found!.Id);
        Assert.Equal(salesBefore + 1, host.Sandbox.State.Count("sale.sale"));
        Assert.Equal("6042537", created.ChannelIdentifier);
        var returnLine = Assert.Single(created.Lines);
        Assert.Equal(-1m, returnLine.Quantity);
        Assert.Equal(22.50m, returnLine.UnitPrice);
        Assert.Equal("59160778", returnLine.ChannelIdentifier);
        Assert.Equal("Too big", host.Sandbox.State.Get("sale.line", returnLine.Id).Text("return_reason"));

        var shipment = Assert.Single(await host.Client.GetCustomerReturnShipmentsAsync(created.Id));
        Assert.Equal("draft", shipment.State);
        Assert.Equal(0m, host.Sandbox.State.StockOf("TEE-BLK-M", Quarantine));

        var received = await host.Client.ReceiveCustomerReturnShipmentAsync(shipment.Id);
        var receivedAgain = await host.Client.ReceiveCustomerReturnShipmentAsync(shipment.Id);

        // As Tryton: a plain receive and done takes the goods into the warehouse storage (the receipt stage points the
        // inventory moves at quarantine instead; QuarantineReceiptTests).
        Assert.Equal("done", received.State);
        Assert.Equal("done", receivedAgain.State);
        Assert.Equal(0m, host.Sandbox.State.StockOf("TEE-BLK-M", Quarantine));
        Assert.Equal(sellableBefore + 1, host.Sandbox.State.StockOf("TEE-BLK-M", Sellable));
        Assert.Equal(1, host.Sandbox.RequestCount("PUT", "stock.shipment.out.return/receive"));
    }

    [Fact]
    public async Task Returning_more_than_was_sold_is_a_user_error_sent_exactly_once()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var sale = (await host.Client.FindSaleByReferenceAsync("#1001"))!;
        var line = sale.Lines.Single(l => l.ProductCode == "TEE-BLK-M");

        var error = await Assert.ThrowsAsync<FulfilUserErrorException>(() =>
            host.Client.CreateReturnOrderAsync(new FulfilReturnOrderRequest(sale.Id, "R-OVER", null, [new FulfilReturnLineRequest(line.Id, 3m, null, "L1", null)])));

        Assert.Equal("UserError", error.Type);
        Assert.Equal("E_RETURN_QUANTITY", error.Code);
        Assert.Contains("2 returnable", error.UserMessage, StringComparison.Ordinal);
        Assert.Equal(1, host.Sandbox.RequestCount("PUT", "/return_order"));
    }

    [Fact]
    public async Task Cancelling_a_processing_return_order_keeps_it_processing_as_tryton_does_and_cancels_its_draft_return_shipment()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var sale = (await host.Client.FindSaleByReferenceAsync("#1003"))!;
        var socks = sale.Lines.Single(l => l.ProductCode == "SOCK-3PK");
        var tee = sale.Lines.Single(l => l.ProductCode == "TEE-BLK-L");
        var first = await host.Client.CreateReturnOrderAsync(new FulfilReturnOrderRequest(sale.Id, "R-CANCEL", null, [new FulfilReturnLineRequest(socks.Id, 1m, null, "L1", null)]));
        var second = await host.Client.CreateReturnOrderAsync(new FulfilReturnOrderRequest(sale.Id, "R-RECEIVED", null, [new FulfilReturnLineRequest(tee.Id, 1m, null, "L2", null)]));
        await host.Client.ReceiveCustomerReturnShipmentAsync((await host.Client.GetCustomerReturnShipmentsAsync(second.Id)).Single().Id);

        var cancelled = await host.Client.CancelReturnOrderAsync(first.Id);
        var cancelledAgain = await host.Client.CancelReturnOrderAsync(first.Id);
        var received = await host.Client.CancelReturnOrderAsync(second.Id);

        // Tryton 6.0 cancels only draft and quoted sales (sale.sale's _transitions); sale.cancel skips any other
        // without an error. What undoes the return is its draft return shipment's own cancel.
        Assert.Equal("processing", cancelled.State);
        Assert.Equal("processing", cancelledAgain.State);
        Assert.Equal("cancelled", Assert.Single(await host.Client.GetCustomerReturnShipmentsAsync(first.Id)).State);
        Assert.Equal("processing", received.State);
        Assert.Equal("done", Assert.Single(await host.Client.GetCustomerReturnShipmentsAsync(second.Id)).State);
    }

    [Fact]
    public async Task Stock_transfer_from_quarantine_to_sellable_happens_once_per_reference()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.State.SetStock("JEANS-32/32", Quarantine, 2m);
        var locations = await host.Client.GetLocationsByCodesAsync([Quarantine, Sellable]);
        var product = (await host.Client.GetProductsBySkusAsync(["JEANS-32/32"])).Single();
        var request = new FulfilInternalShipmentRequest("LOOP-6042537-restock", locations.Single(l => l.Code == Quarantine).Id, locations.Single(l => l.Code == Sellable).Id, new DateOnly(2025, 1, 15), [new FulfilMoveRequest(product.Id, 2m)]);

        var done = await host.Client.TransferStockAsync(request);
        var repeated = await host.Client.TransferStockAsync(request);

        Assert.Equal("done", done.State);
        Assert.Equal(done.Id, repeated.Id);
        Assert.Equal(1, host.Sandbox.State.Count("stock.shipment.internal"));
        Assert.Equal(0m, host.Sandbox.State.StockOf("JEANS-32/32", Quarantine));
        Assert.Equal(10m, host.Sandbox.State.StockOf("JEANS-32/32", Sellable));
        Assert.Equal(done.Id, (await host.Client.FindInternalShipmentAsync("LOOP-6042537-restock"))!.Id);
    }

    [Fact]
    public async Task Internal_shipment_without_stock_at_the_source_is_refused_and_moves_nothing()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var locations = await host.Client.GetLocationsByCodesAsync([Quarantine, FulfilSandboxDemo.DamagedLocationCode]);
        var product = (await host.Client.GetProductsBySkusAsync(["CAP/RED:OS"])).Single();
        var request = new FulfilInternalShipmentRequest("LOOP-1-damaged", locations.Single(l => l.Code == Quarantine).Id, locations.Single(l => l.Code == FulfilSandboxDemo.DamagedLocationCode).Id, new DateOnly(2025, 1, 15), [new FulfilMoveRequest(product.Id, 1m)]);

        var created = await host.Client.CreateInternalShipmentAsync(request);
        await Assert.ThrowsAsync<FulfilStockUnavailableException>(() => host.Client.CompleteInternalShipmentAsync(created.Id));

        Assert.Equal("waiting", host.Sandbox.State.Get("stock.shipment.internal", created.Id).State);
        Assert.Equal(0m, host.Sandbox.State.StockOf("CAP/RED:OS", FulfilSandboxDemo.DamagedLocationCode));
        Assert.Equal(0m, host.Sandbox.State.StockOf("CAP/RED:OS", Quarantine));
    }

    [Fact]
    public async Task Credit_note_is_created_posted_once_and_found_by_reference()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var sale = (await host.Client.FindSaleByReferenceAsync("#1001"))!;
        var clearing = (await host.Client.GetAccountsByCodesAsync([FulfilSandboxDemo.ReturnsClearingAccountCode])).Single();
        var request = new FulfilCreditNoteRequest("LOOP-RET-6042537", sale.PartyId!.Value, new DateOnly(2025, 1, 15), "Loop return 6042537",
            [new FulfilCreditNoteLine(sale.Lines[0].ProductId, "Black tee M", -1m, 25.00m, clearing.Id), new FulfilCreditNoteLine(null, "Shipping refund", -1m, 4.99m, clearing.Id)]);

        var draft = await host.Client.CreateCreditNoteAsync(request);
        var posted = await host.Client.PostCreditNoteAsync(draft.Id);
        var postedAgain = await host.Client.PostCreditNoteAsync(draft.Id);
        var found = await host.Client.FindCreditNoteAsync("LOOP-RET-6042537");

        Assert.Equal("draft", draft.State);
        Assert.Equal(-29.99m, draft.TotalAmount);
        Assert.Equal("posted", posted.State);
        Assert.StartsWith("CN", posted.Number, StringComparison.Ordinal);
        Assert.Equal(posted, postedAgain);
        Assert.Equal(draft.Id, found!.Id);
        Assert.Equal(1, host.Sandbox.RequestCount("PUT", "account.invoice/post"));
        Assert.Null(await host.Client.FindCreditNoteAsync("LOOP-RET-unknown"));
    }

    [Fact]
    public async Task Credit_note_with_a_positive_total_is_refused_before_sending()
    {
        await using var host = await FulfilTestHost.StartAsync();

        await Assert.ThrowsAsync<FulfilRequestException>(() => host.Client.CreateCreditNoteAsync(
            new FulfilCreditNoteRequest("LOOP-RET-X", 1, new DateOnly(2025, 1, 15), null, [new FulfilCreditNoteLine(null, "oops", 1m, 10m, null)])));

        Assert.Equal(0, host.Sandbox.RequestCount("POST", "account.invoice"));
    }

    [Fact]
    public async Task Balanced_journal_entry_is_created_posted_and_read_back_with_exact_amounts()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var accounts = await host.Client.GetAccountsByCodesAsync([FulfilSandboxDemo.ReturnsClearingAccountCode, FulfilSandboxDemo.GiftCardLiabilityAccountCode, "9999"]);
        var clearing = accounts.Single(a => a.Code == FulfilSandboxDemo.ReturnsClearingAccountCode);
        var liability = accounts.Single(a => a.Code == FulfilSandboxDemo.GiftCardLiabilityAccountCode);
        var request = new FulfilJournalEntryRequest("LOOP-GC-6042537", new DateOnly(2025, 1, 15),
            [new FulfilJournalLine(clearing.Id, 50.01m, 0m, null, "Store credit for return 6042537"), new FulfilJournalLine(liability.Id, 0m, 50.01m, null, "Gift card issued")]);

        var draft = await host.Client.CreateJournalEntryAsync(request);
        var posted = await host.Client.PostJournalEntryAsync(draft.Id);
        var found = await host.Client.FindJournalEntryAsync("LOOP-GC-6042537");

        Assert.Equal(2, accounts.Count);
        Assert.Equal("draft", draft.State);
        Assert.Equal("posted", posted.State);
        Assert.Equal(posted.Id, found!.Id);
        Assert.Equal(new DateOnly(2025, 1, 15), found.Date);
        Assert.Contains(found.Lines, l => l.AccountId == clearing.Id && l.Debit == 50.01m && l.Credit == 0m);
        Assert.Contains(found.Lines, l => l.AccountId == liability.Id && l.Credit == 50.01m);
        Assert.Equal("posted", host.Sandbox.State.FindByReference("account.move", "LOOP-GC-6042537").Single().State);
    }

    [Fact]
    public async Task Unbalanced_journal_entry_is_refused_by_the_client_and_by_fulfil_on_post()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var request = new FulfilJournalEntryRequest("LOOP-BAD", new DateOnly(2025, 1, 15), [new FulfilJournalLine(3, 10m, 0m, null, null), new FulfilJournalLine(4, 0m, 9.99m, null, null)]);

        await Assert.ThrowsAsync<FulfilRequestException>(() => host.Client.CreateJournalEntryAsync(request));
        Assert.Equal(0, host.Sandbox.RequestCount("POST", "account.move"));

        // Sent anyway through the low-level interface: Fulfil accepts the draft and refuses to post it.
        var ids = await host.Http.CreateAsync("account.move", [new Dictionary<string, object?>
        {
            ["journal"] = 2, ["date"] = new DateOnly(2025, 1, 15), ["description"] = "LOOP-BAD",
            ["lines"] = new object[] { new object[] { "create", new[] { new Dictionary<string, object?> { ["account"] = 3, ["debit"] = 10m, ["credit"] = 0m }, new Dictionary<string, object?> { ["account"] = 4, ["debit"] = 0m, ["credit"] = 9.99m } } } },
        }]);
        var error = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Client.PostJournalEntryAsync(ids[0]));

        Assert.Equal("E_MOVE_UNBALANCED", error.Code);
        Assert.Equal("draft", host.Sandbox.State.Get("account.move", ids[0]).State);
    }

    [Fact]
    public async Task Journal_entry_in_a_closed_period_is_a_user_error()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.State.ClosePeriod(2025, 1);
        var request = new FulfilJournalEntryRequest("LOOP-CLOSED", new DateOnly(2025, 1, 31), [new FulfilJournalLine(3, 5m, 0m, null, null), new FulfilJournalLine(6, 0m, 5m, null, null)]);

        var error = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Client.CreateJournalEntryAsync(request));

        Assert.Equal("E_PERIOD_CLOSED", error.Code);
        Assert.Contains("closed", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Sandbox.State.FindByReference("account.move", "LOOP-CLOSED"));
    }

    [Fact]
    public async Task Exchange_sale_order_is_created_in_the_exchange_channel_and_confirmed()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var original = (await host.Client.FindSaleByReferenceAsync("#1002"))!;
        var product = (await host.Client.GetProductsBySkusAsync(["TEE-BLK-L"])).Single();
        var request = new FulfilSaleOrderRequest("EXC-#1002", "loop-exchange-777", original.PartyId!.Value, original.ShipmentAddressId, original.InvoiceAddressId, new DateOnly(2025, 1, 15), "Exchange for Loop return 777",
            [new FulfilSaleOrderLine(product.Id, 1m, 0m, "Exchange item")]);

        var draft = await host.Client.CreateSaleOrderAsync(request);
        var confirmed = await host.Client.ConfirmSaleOrderAsync(draft.Id);
        var confirmedAgain = await host.Client.ConfirmSaleOrderAsync(draft.Id);

        Assert.Equal("draft", draft.State);
        Assert.Equal("confirmed", confirmed.State);
        Assert.Equal("confirmed", confirmedAgain.State);
        Assert.Equal(FulfilSandboxDemo.ExchangeChannelId, confirmed.ChannelId);
        Assert.Equal("1", confirmed.Priority);
        Assert.Equal("loop-exchange-777", confirmed.ChannelIdentifier);
        Assert.Equal(0.00m, confirmed.TotalAmount);
        Assert.Equal(draft.Id, (await host.Client.FindSaleByChannelIdentifierAsync("loop-exchange-777"))!.Id);
        Assert.Equal(1, host.Sandbox.RequestCount("PUT", "sale.sale/confirm"));
    }

    [Fact]
    public async Task Sale_order_for_an_archived_product_is_a_user_error()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var archived = (await host.Client.GetProductsBySkusAsync([FulfilSandboxDemo.ArchivedSku])).Single();

        var error = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Client.CreateSaleOrderAsync(
            new FulfilSaleOrderRequest("EXC-1", "loop-exchange-1", 1, null, null, new DateOnly(2025, 1, 15), null, [new FulfilSaleOrderLine(archived.Id, 1m, 20m, null)])));

        Assert.Equal("E_PRODUCT_INACTIVE", error.Code);
    }

    [Fact]
    public async Task Stock_is_reported_per_product_and_location_including_child_locations()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.State.SetStock("TEE-BLK-M", FulfilSandboxDemo.SellableBinCode, 5m);
        var products = await host.Client.GetProductsBySkusAsync(["TEE-BLK-M", "JEANS-32/32"]);
        var locations = await host.Client.GetLocationsByCodesAsync([Sellable, Quarantine, "NOPE"]);

        var stock = await host.Client.GetStockAsync(products.Select(p => p.Id).ToArray(), locations.Select(l => l.Id).ToArray());

        Assert.Equal(2, locations.Count);
        Assert.Equal(4, stock.Count);
        decimal Level(string sku, string code) => stock.Single(s => s.Sku == sku && s.LocationId == locations.Single(l => l.Code == code).Id).Quantity;
        Assert.Equal(45m, Level("TEE-BLK-M", Sellable));
        Assert.Equal(0m, Level("TEE-BLK-M", Quarantine));
        Assert.Equal(8m, Level("JEANS-32/32", Sellable));
        Assert.Equal("storage", locations.Single(l => l.Code == Quarantine).Type);
    }
}
