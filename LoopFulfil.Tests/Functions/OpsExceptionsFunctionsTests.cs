using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Http;
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
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
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
        var resolved = await exceptions.RaiseAsync(SkuMissing("90002", ReturnEvent("90002")), Ct);
        await exceptions.ResolveAsync(resolved.Id, "fixed by hand", Ct);
        await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.AmountMismatch, "90003", "Totals differ."), Ct);

        var result = Answer(await ops.List(FunctionTestKit.Request("GET", "?status=open&category=SkuNotFound")));

        Assert.Equal(StatusCodes.Status200OK, result.Status);
        var only = Assert.Single(Read<List<ExceptionRecordView>>(result));
        Assert.Equal("90001", only.ReturnId);
        Assert.Equal("SkuNotFound", only.Category);
        Assert.Equal("Open", only.Status);
        Assert.True(only.RawEventLength > 0);
        Assert.DoesNotContain(typeof(ExceptionRecordView).GetProperties(), p => p.PropertyType == typeof(ReadOnlyMemory<byte>));

        Assert.Equal(3, Read<List<ExceptionRecordView>>(Answer(await ops.List(FunctionTestKit.Request("GET")))).Count);
        Assert.DoesNotContain("rawEvent\"", Answer(await ops.List(FunctionTestKit.Request("GET"))).Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?status=pending")]
    [InlineData("?category=NoSuchThing")]
    [InlineData("?category=1")]
    public async Task List_rejects_unknown_filters_with_400(string query)
    {
        var (ops, _, _) = await CreateAsync();

        var result = Answer(await ops.List(FunctionTestKit.Request("GET", query)));

        Assert.Equal(StatusCodes.Status400BadRequest, result.Status);
        Assert.Equal("application/problem+json; charset=utf-8", result.ContentType);
        Assert.Equal(400, Read<JsonElement>(result).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Replay_reenqueues_the_raw_event_under_a_fresh_message_id_and_marks_the_record()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        var record = await exceptions.RaiseAsync(SkuMissing("90011", ReturnEvent("90011")), Ct);

        var result = Answer(await ops.Replay(FunctionTestKit.Request("POST"), record.Id));

        Assert.Equal(StatusCodes.Status200OK, result.Status);
        var view = Read<ReplayView>(result);
        Assert.Equal("Replayed", view.Outcome);
        Assert.Equal("Replayed", view.Record!.Status);
        var replayed = Assert.Single(sent.On(QueueNames.LoopReturns));
        Assert.Equal(view.MessageId, replayed.MessageId);
        Assert.EndsWith(":replay:1", replayed.MessageId, StringComparison.Ordinal);
        Assert.Equal("90011", replayed.SessionId);
        Assert.Equal(record.Id, replayed.Properties[WebhookMessagePropertyNames.ReplayOf]);
    }

    [Fact]
    public async Task Replay_of_an_unknown_id_is_404_and_of_a_record_without_event_is_409()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        var noEvent = await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.RestockDelayed, "90021", "Goods not received in 14 days."), Ct);

        var missing = Answer(await ops.Replay(FunctionTestKit.Request("POST"), "SkuNotFound-0123456789abcdef0123456789abcdef"));
        var conflict = Answer(await ops.Replay(FunctionTestKit.Request("POST"), noEvent.Id));

        Assert.Equal(StatusCodes.Status404NotFound, missing.Status);
        Assert.Equal(StatusCodes.Status409Conflict, conflict.Status);
        Assert.Equal("NoRawEvent", Read<ReplayView>(conflict).Outcome);
        Assert.Empty(sent.On(QueueNames.LoopReturns));
    }

    [Fact]
    public async Task Replay_by_category_replays_every_open_record_of_it_and_nothing_else()
    {
        var (ops, exceptions, sent) = await CreateAsync();
        await exceptions.RaiseAsync(SkuMissing("90031", ReturnEvent("90031")), Ct);
        await exceptions.RaiseAsync(SkuMissing("90032", ReturnEvent("90032")), Ct);
        await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.OrderNotFound, "90033", "No order.") { RawEvent = ReturnEvent("90033") }, Ct);

        var views = Read<List<ReplayView>>(Answer(await ops.ReplayCategory(FunctionTestKit.Request("POST", "?category=SkuNotFound"))));
        Assert.Equal(2, views.Count);
        Assert.All(views, v => Assert.Equal("Replayed", v.Outcome));
        Assert.Equal(["90031", "90032"], sent.On(QueueNames.LoopReturns).Select(m => m.SessionId).Order());
        Assert.Equal(StatusCodes.Status400BadRequest, Answer(await ops.ReplayCategory(FunctionTestKit.Request("POST"))).Status);
    }

    [Fact]
    public void Ops_routes_need_the_master_key_and_avoid_the_reserved_admin_prefix()
    {
        var triggers = typeof(OpsExceptionsFunctions).GetMethods()
            .SelectMany(m => m.GetParameters().SelectMany(p => p.GetCustomAttributes(typeof(HttpTriggerAttribute), false).Cast<HttpTriggerAttribute>()))
            .ToList();

        Assert.Equal(5, triggers.Count);
        Assert.All(triggers, t => Assert.Equal(AuthorizationLevel.Admin, t.AuthLevel));
        Assert.All(triggers, t => Assert.StartsWith("ops/exceptions", t.Route, StringComparison.Ordinal));
        Assert.Equal(
            ["GET ops/exceptions", "GET ops/exceptions/{id}", "POST ops/exceptions/replay", "POST ops/exceptions/{id}/replay", "POST ops/exceptions/{id}/resolve"],
            triggers.Select(t => $"{string.Join(',', t.Methods!).ToUpperInvariant()} {t.Route}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Get_and_resolve_answer_one_record_and_404_for_an_unknown_id()
    {
        var (ops, exceptions, _) = await CreateAsync();
        var record = await exceptions.RaiseAsync(SkuMissing("90041", ReturnEvent("90041")), Ct);

        var got = Read<ExceptionRecordView>(Answer(await ops.Get(FunctionTestKit.Request("GET"), record.Id)));
        var resolved = Answer(await ops.Resolve(FunctionTestKit.Request("POST", "?note=created%20the%20SKU"), record.Id));
        var unknown = Answer(await ops.Get(FunctionTestKit.Request("GET"), "SkuNotFound-0123456789abcdef0123456789abcdef"));
        var unknownResolve = Answer(await ops.Resolve(FunctionTestKit.Request("POST"), "SkuNotFound-0123456789abcdef0123456789abcdef"));

        Assert.Equal(("90041", "Open"), (got.ReturnId, got.Status));
        Assert.Equal(StatusCodes.Status200OK, resolved.Status);
        Assert.Equal("Resolved", Read<ExceptionRecordView>(resolved).Status);
        Assert.Equal("Resolved", (await exceptions.GetAsync(record.Id, Ct))!.Status.ToString());
        Assert.Equal(StatusCodes.Status404NotFound, unknown.Status);
        Assert.Equal(StatusCodes.Status404NotFound, unknownResolve.Status);
        Assert.Equal("application/problem+json; charset=utf-8", unknown.ContentType);
    }

    private static OpsResponse Answer(IActionResult result) => Assert.IsType<OpsActionResult>(result).Response;

    private static T Read<T>(OpsResponse response) => JsonSerializer.Deserialize<T>(response.Body, JsonSerializerOptions.Web)!;
}
