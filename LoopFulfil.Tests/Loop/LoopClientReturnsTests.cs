using System.Globalization;
using System.Net;
using LoopFulfil.Core.Loop;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Loop;

public class LoopClientReturnsTests
{
    private static readonly TimeSpan Generous = HangGuard.Limit;

    [Fact]
    public async Task Return_details_come_back_with_lines_exchanges_and_money_as_decimals()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var built = LoopReturnBuilder.AReturn().ForOrder("#1002")
            .WithLine("TEE-BLK/M", 25.00m, tax: 2.00m)
            .WithExchangeOnSeparateOrder("HAT-RED", 30.00m)
            .WithNumericIds();
        h.Sandbox.AddReturn(built.BuildString(), sendCreatedWebhook: false);

        var r = await h.Client.GetReturnAsync(built.ReturnId, CancellationToken.None);

        Assert.Equal((built.ReturnId, "open", "#1002"), (r.Id, r.State, r.OrderName));
        Assert.Equal((25.00m, 2.00m, 27.00m), (r.ReturnProductTotal, r.ReturnTaxTotal, r.ReturnTotal));
        Assert.Equal("TEE-BLK/M", Assert.Single(r.LineItems).Sku);
        var exchange = Assert.Single(r.Exchanges);
        Assert.True(exchange.IsSeparateOrder);
        Assert.Equal("EXC-1002-1", exchange.ExchangeOrderName);
    }

    [Fact]
    public async Task Unknown_return_is_a_not_found_error()
    {
        await using var h = await LoopTestHarness.StartAsync();

        await Assert.ThrowsAsync<LoopNotFoundException>(() => h.Client.GetReturnAsync("404404", CancellationToken.None));
    }

    [Fact]
    public async Task Returns_list_follows_next_page_urls_across_several_pages()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var start = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var b = LoopReturnBuilder.AReturn().CreatedAt(start.AddHours(i)).WithLine("MUG:12OZ", 18m);
            ids.Add(h.Sandbox.AddReturn(b.BuildString(), sendCreatedWebhook: false));
        }

        var query = new LoopReturnListQuery { From = start.AddDays(-1), To = start.AddDays(1), Filter = LoopReturnListFilter.CreatedAt, PageSize = 3 };
        var listed = await h.Client.ListReturnsAsync(query, CancellationToken.None).ToListAsync();

        Assert.Equal(ids, listed.Select(r => r.Id));
        var listRequests = h.Sandbox.Requests.Where(r => r.Path.EndsWith("/warehouse/return/list", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, listRequests.Count);
        Assert.DoesNotContain("cursor=", listRequests[0].Query, StringComparison.Ordinal);
        Assert.All(listRequests.Skip(1), r => Assert.Contains("cursor=", r.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Returns_list_splits_ranges_longer_than_120_days_into_windows_the_api_accepts()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = from.AddDays(300);
        int[] days = [10, 121, 150, 299];
        var ids = days
            .Select(day => h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().CreatedAt(from.AddDays(day)).WithLine("HAT-RED", 30m).BuildString(), sendCreatedWebhook: false))
            .ToList();

        var listed = await h.Client.ListReturnsAsync(new LoopReturnListQuery { From = from, To = to, Filter = LoopReturnListFilter.CreatedAt }, CancellationToken.None).ToListAsync();

        Assert.Equal(ids, listed.Select(r => r.Id));
        var windows = h.Sandbox.Requests.Where(r => r.Path.EndsWith("/warehouse/return/list", StringComparison.Ordinal))
            .Select(r => System.Web.HttpUtility.ParseQueryString(r.Query))
            .Select(q => (From: Parse(q["from"]), To: Parse(q["to"])))
            .ToList();
        Assert.Equal(3, windows.Count);
        Assert.All(windows, w => Assert.True(w.To - w.From <= TimeSpan.FromDays(120)));
        Assert.Equal(from, windows[0].From);
        Assert.Equal(to, windows[^1].To);
        Assert.All(h.Sandbox.Requests, r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public async Task Returns_list_filters_by_each_requested_state()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var at = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var open = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().CreatedAt(at).BuildString(), false);
        var review = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().CreatedAt(at.AddMinutes(1)).WithState("review").BuildString(), false);
        h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().CreatedAt(at.AddMinutes(2)).WithState("cancelled").BuildString(), false);

        var defaults = await h.Client.ListReturnsAsync(new LoopReturnListQuery { From = at.AddDays(-1), To = at.AddDays(1) }, CancellationToken.None).ToListAsync();
        var chosen = await h.Client.ListReturnsAsync(new LoopReturnListQuery { From = at.AddDays(-1), To = at.AddDays(1), States = ["open", "review"] }, CancellationToken.None).ToListAsync();

        Assert.Equal([open], defaults.Select(r => r.Id));
        Assert.Equal([open, review], chosen.Select(r => r.Id!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Process_is_queued_then_the_return_closes_and_a_signed_return_closed_webhook_arrives()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var h = await LoopTestHarness.StartAsync(new LoopSandboxOptions { WebhookTargetUrl = receiver.Url });
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().WithLine("TEE-BLK/M", 25m).BuildString(), sendCreatedWebhook: false);

        await h.Client.ProcessReturnAsync(id, new Dictionary<string, string> { ["fulfil_rma"] = "RMA-0042" }, CancellationToken.None);

        var delivery = await h.Sandbox.WaitForWebhookAsync(d => d.Trigger == "return.closed", Generous);
        Assert.Equal("closed", h.Sandbox.GetState(id));
        Assert.Equal("RMA-0042", h.Sandbox.GetProcessDetails(id)?["fulfil_rma"]?.GetValue<string>());
        Assert.Equal(200, delivery.StatusCode);
        var (body, signature) = Assert.Single(receiver.Received);
        Assert.Equal(h.Sandbox.Sign(body), signature);
        var closed = Core.Loop.Json.LoopJson.Deserialize<Core.Loop.Models.LoopReturn>(body);
        Assert.Equal((id, "closed", "return.closed"), (closed.Id, closed.State, closed.Trigger));
    }

    [Fact]
    public async Task Process_of_a_flagged_return_is_rejected_with_loops_code_and_sent_once()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().WithState("review").BuildString(), sendCreatedWebhook: false);

        var error = await Assert.ThrowsAsync<LoopActionRejectedException>(() => h.Client.ProcessReturnAsync(id, null, CancellationToken.None));

        Assert.Equal(("UNPROCESSABLE_FLAGGED_RETURN", "process", id), (error.Code, error.Action, error.ReturnId));
        Assert.Equal(HttpStatusCode.OK, error.StatusCode);
        Assert.IsAssignableFrom<Core.Errors.PermanentIntegrationException>(error);
        Assert.Equal(1, h.RequestsTo($"/warehouse/return/{id}/process"));
        Assert.Equal("review", h.Sandbox.GetState(id));
    }

    [Fact]
    public async Task Cancel_of_an_expired_return_is_rejected_with_422_and_loops_code()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().WithState("expired").BuildString(), sendCreatedWebhook: false);

        var error = await Assert.ThrowsAsync<LoopActionRejectedException>(() => h.Client.CancelReturnAsync(id, CancellationToken.None));

        Assert.Equal((HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_EXPIRED_RETURN"), (error.StatusCode, error.Code));
        Assert.Equal(1, h.RequestsTo($"/warehouse/return/{id}/cancel"));
    }

    [Fact]
    public async Task Flag_puts_the_return_in_review_and_then_process_is_refused()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);

        await h.Client.FlagReturnAsync(id, CancellationToken.None);

        Assert.Equal(("review", 1), (h.Sandbox.GetState(id), h.Sandbox.FlagCount(id)));
        await Assert.ThrowsAsync<LoopActionRejectedException>(() => h.Client.CancelReturnAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_and_close_move_open_returns_to_cancelled_and_closed()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var toCancel = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        var toClose = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);

        await h.Client.CancelReturnAsync(toCancel, CancellationToken.None);
        await h.Client.CloseReturnAsync(toClose, CancellationToken.None);

        Assert.Equal(("cancelled", "closed"), (h.Sandbox.GetState(toCancel), h.Sandbox.GetState(toClose)));
        var again = await Assert.ThrowsAsync<LoopActionRejectedException>(() => h.Client.CloseReturnAsync(toClose, CancellationToken.None));
        Assert.Equal("UNPROCESSABLE_RETURN_STATE", again.Code);
    }

    [Fact]
    public async Task Notes_are_added_and_read_back_and_a_return_without_notes_reads_as_empty()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);

        var before = await h.Client.GetReturnNotesAsync(id, CancellationToken.None);
        await h.Client.AddReturnNoteAsync(id, "Received at dock 4; Fulfil RMA RMA-0042.", CancellationToken.None);
        await h.Client.AddReturnNoteAsync(id, LoopNotes.Fit(new string('x', 400)), CancellationToken.None);
        var after = await h.Client.GetReturnNotesAsync(id, CancellationToken.None);

        Assert.Empty(before);
        Assert.Equal(["Received at dock 4; Fulfil RMA RMA-0042.", LoopNotes.Fit(new string('x', 400))], after.Select(n => n.Content));
        Assert.All(after, n => Assert.NotNull(n.CreatedAt));
        Assert.Equal(254, after[1].Content!.Length);
        Assert.Equal(2, h.Sandbox.GetNotes(id).Count);
    }

    [Fact]
    public async Task A_note_of_255_characters_is_refused_before_it_is_sent()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => h.Client.AddReturnNoteAsync(id, new string('x', 255), CancellationToken.None));

        Assert.Equal(0, h.RequestsTo($"/warehouse/return/{id}/note"));
    }

    [Fact]
    public async Task Remove_line_items_drops_those_lines_and_processes_the_return()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var b = LoopReturnBuilder.AReturn().WithLine("TEE-BLK/M", 25m, lineItemId: "881").WithLine("HAT-RED", 30m, lineItemId: "882");
        var id = h.Sandbox.AddReturn(b.BuildString(), sendCreatedWebhook: false);

        await h.Client.RemoveLineItemsAsync(id, ["881"], CancellationToken.None);

        var remaining = await h.Client.GetReturnAsync(id, CancellationToken.None);
        Assert.Equal(["882"], remaining.LineItems.Select(l => l.LineItemId));
        await h.Sandbox.BackgroundWorkDone().Guarded();
        Assert.Equal("closed", h.Sandbox.GetState(id));
        var afterClose = await Assert.ThrowsAsync<LoopActionRejectedException>(() => h.Client.RemoveLineItemsAsync(id, ["882"], CancellationToken.None));
        Assert.Equal("UNPROCESSABLE_RETURN_STATE", afterClose.Code);
    }

    [Fact]
    public async Task Failed_background_processing_sends_return_processing_failed_and_leaves_the_return_open()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var h = await LoopTestHarness.StartAsync(new LoopSandboxOptions { WebhookTargetUrl = receiver.Url });
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        h.Sandbox.FailNextProcessing(id, "Exchange order could not be created.");

        await h.Client.ProcessReturnAsync(id, null, CancellationToken.None);

        var delivery = await h.Sandbox.WaitForWebhookAsync(d => d.Trigger == "return.processing.failed", Generous);
        var failed = Core.Loop.Json.LoopJson.Deserialize<Core.Loop.Models.LoopReturnProcessingFailed>(delivery.Body);
        Assert.Equal((id, "open", "Exchange order could not be created."), (failed.ReturnId, failed.ReturnState, failed.Message));
        Assert.Equal("open", h.Sandbox.GetState(id));
    }

    private static DateTimeOffset Parse(string? text)
        => DateTimeOffset.ParseExact(text!, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
