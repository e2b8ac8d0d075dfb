using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Functions;

/// <summary>The ops routes over the real exception service on Azurite.</summary>
public class OpsExceptionsFunctionsTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<(OpsExceptionsFunctions Ops, ExceptionService Exceptions, RecordingMessageSender Sent)> CreateAsync()
    {
        AzureTableStore store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var sent = new RecordingMessageSender();
        var exceptions = new ExceptionService(store, await AzuriteTestServer.CreateBlobStoreAsync(), sent, new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), TimeProvider.System, NullLogger<ExceptionService>.Instance);
        return (new OpsExceptionsFunctions(exceptions), exceptions, sent);
    }

    private static ExceptionRaise SkuMissing(string returnId, byte[] rawEvent) =>
        new(ExceptionCategory.SkuNotFound, returnId, "SKU HAT-RED is not in Fulfil.") { Skus = ["HAT-RED"], RawEvent = rawEvent, Source = "returns-handler:Authorisation" };

    private static byte[] ReturnEvent(string returnId) =>
        Utf8($$$"""{"topic":"return","trigger":"return.created","id":"{{{returnId}}}","state":"open","edited_at":"2026-11-20T09:15:00+00:00","customer":{"email":"x@example.com"}}""");

    [Fact]
    public async Task List_filters_by_status_and_category_and_never_returns_raw_events()
    {
        var (ops, exceptions, _) = await CreateAsync();
        await exceptions.RaiseAsync(SkuMissing("90001", ReturnEvent("90001")), Ct);
        ExceptionRecord resolved = await exceptions.RaiseAsync(SkuMissing("90002", ReturnEvent("90002")), Ct);
        await exceptions.ResolveAsync(resolved.Id, "fixed by hand", Ct);
        await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.AmountMismatch, "90003", "Totals differ."), Ct);

        var result = Assert.IsType<OkObjectResult>(await ops.List(FunctionTestKit.Request("GET", "?status=open&category=SkuNotFound")));

        var views = Assert.IsAssignableFrom<IReadOnlyList<ExceptionRecordView>>(result.Value);
        ExceptionRecordView only = Assert.Single(views);
        Assert.Equal("90001", only.ReturnId);
        Assert.Equal("SkuNotFound", only.Category);
        Assert.Equal("Open", only.Status);
        Assert.True(only.RawEventLength > 0);
        Assert.DoesNotContain(typeof(ExceptionRecordView).GetProperties(), p => p.PropertyType == typeof(ReadOnlyMemory<byte>));

        var all = Assert.IsType<OkObjectResult>(await ops.List(FunctionTestKit.Request("GET")));
        Assert.Equal(3, Assert.IsAssignableFrom<IReadOnlyList<ExceptionRecordView>>(all.Value).Count);
    }

    [Theory]
    [InlineData("?status=pending")]
    [InlineData("?category=NoSuchThing")]
    [InlineData("?category=1")]
    public async Task List_rejects_unknown_filters_with_400(string query)
    {
        var (ops, _, _) = await CreateAsync();

        Assert.IsType<BadRequestObjectResult>(await ops.List(FunctionTestKit.Request("GET", query)));
    }

    [Fact]
    public async Task Replay_reenqueues_the_raw_event_under_a_fresh_message_id_and_marks_the_record()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        ExceptionRecord record = await exceptions.RaiseAsync(SkuMissing("90011", ReturnEvent("90011")), Ct);

        var result = Assert.IsType<ObjectResult>(await ops.Replay(FunctionTestKit.Request("POST"), record.Id));

        Assert.Equal(StatusCodes.Status200OK, result.StatusCode);
        var view = Assert.IsType<ReplayView>(result.Value);
        Assert.Equal("Replayed", view.Outcome);
        Assert.Equal("Replayed", view.Record!.Status);
        OutboundMessage replayed = Assert.Single(sent.On(QueueNames.LoopReturns));
        Assert.Equal(view.MessageId, replayed.MessageId);
        Assert.EndsWith(":replay:1", replayed.MessageId, StringComparison.Ordinal);
        Assert.Equal("90011", replayed.SessionId);
        Assert.Equal(record.Id, replayed.Properties[WebhookMessagePropertyNames.ReplayOf]);
    }

    [Fact]
    public async Task Replay_of_an_unknown_id_is_404_and_of_a_record_without_event_is_409()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        ExceptionRecord noEvent = await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.RestockDelayed, "90021", "Goods not received in 14 days."), Ct);

        var missing = Assert.IsType<ObjectResult>(await ops.Replay(FunctionTestKit.Request("POST"), "SkuNotFound-0123456789abcdef0123456789abcdef"));
        var conflict = Assert.IsType<ObjectResult>(await ops.Replay(FunctionTestKit.Request("POST"), noEvent.Id));

        Assert.Equal(StatusCodes.Status404NotFound, missing.StatusCode);
        Assert.Equal(StatusCodes.Status409Conflict, conflict.StatusCode);
        Assert.Equal("NoRawEvent", Assert.IsType<ReplayView>(conflict.Value).Outcome);
        Assert.Empty(sent.On(QueueNames.LoopReturns));
    }

    [Fact]
    public async Task Replay_by_category_replays_every_open_record_of_it_and_nothing_else()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        await exceptions.RaiseAsync(SkuMissing("90031", ReturnEvent("90031")), Ct);
        await exceptions.RaiseAsync(SkuMissing("90032", ReturnEvent("90032")), Ct);
        await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.OrderNotFound, "90033", "No order.") { RawEvent = ReturnEvent("90033") }, Ct);

        var result = Assert.IsType<OkObjectResult>(await ops.ReplayCategory(FunctionTestKit.Request("POST", "?category=SkuNotFound")));

        var views = Assert.IsAssignableFrom<IReadOnlyList<ReplayView>>(result.Value);
        Assert.Equal(2, views.Count);
        Assert.All(views, v => Assert.Equal("Replayed", v.Outcome));
        Assert.Equal(["90031", "90032"], sent.On(QueueNames.LoopReturns).Select(m => m.SessionId).Order());
        Assert.IsType<BadRequestObjectResult>(await ops.ReplayCategory(FunctionTestKit.Request("POST")));
    }

    [Fact]
    public void Ops_routes_need_the_master_key_and_avoid_the_reserved_admin_prefix()
    {
        var triggers = typeof(OpsExceptionsFunctions).GetMethods()
            .SelectMany(m => m.GetParameters().SelectMany(p => p.GetCustomAttributes(typeof(HttpTriggerAttribute), false).Cast<HttpTriggerAttribute>()))
            .ToList();

        Assert.Equal(3, triggers.Count);
        Assert.All(triggers, t => Assert.Equal(AuthorizationLevel.Admin, t.AuthLevel));
        Assert.All(triggers, t => Assert.StartsWith("ops/exceptions", t.Route, StringComparison.Ordinal));
        Assert.Equal(
            ["GET ops/exceptions", "POST ops/exceptions/replay", "POST ops/exceptions/{id}/replay"],
            triggers.Select(t => $"{string.Join(',', t.Methods!).ToUpperInvariant()} {t.Route}").Order(StringComparer.Ordinal));
    }
}
