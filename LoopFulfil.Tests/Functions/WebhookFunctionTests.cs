using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Http;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Functions;

/// <summary>The webhook function as a plain class over the real ingress, with parking in Azurite.</summary>
public class WebhookFunctionTests
{
    private static readonly byte[] ReturnCreated = Utf8(
        """{"topic":"return","trigger":"return.created","id":"88001","state":"open","edited_at":"2026-11-20T09:15:00+00:00","line_items":[{"id":1,"sku":"HAT-RED"}]}""");

    private static async Task<(WebhookIngress Ingress, ExceptionService Exceptions)> CreateAsync(RecordingMessageSender alerts)
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var ingress = IngressHarness.Create(store, alerts, blobs: blobs);
        var exceptions = new ExceptionService(store, blobs, alerts, new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), TimeProvider.System, NullLogger<ExceptionService>.Instance);
        return (ingress, exceptions);
    }

    private static async Task<List<ExceptionRecord>> AllRecordsAsync(ExceptionService exceptions)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in exceptions.ListAsync(null, null, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    [Fact]
    public async Task Valid_signature_answers_202_and_sends_one_message_with_message_id_and_session_id()
    {
        var sender = new RecordingMessageSender();
        var (ingress, exceptions) = await CreateAsync(new RecordingMessageSender());
        var function = new WebhookFunction(ingress, sender);
        var request = FunctionTestKit.Post(ReturnCreated, Sign(ReturnCreated));

        var (status, headers, contentType, body) = await FunctionTestKit.ExecuteAsync(await function.Run(request), request);

        Assert.Equal(202, status);
        Assert.Equal("application/json", contentType);
        Assert.False(headers.ContainsKey("Retry-After"));
        Assert.Equal("queued", JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
        var sent = Assert.Single(sender.Sent);
        Assert.Equal(QueueNames.LoopReturns, sent.Queue);
        Assert.Equal("88001", sent.SessionId);
        Assert.Matches("^[0-9a-f]{64}$", sent.MessageId);
        Assert.Equal(sent.MessageId, sent.Properties[WebhookMessagePropertyNames.DedupeKey]);
        Assert.True(sent.Body.Span.SequenceEqual(ReturnCreated));
        Assert.Empty(await AllRecordsAsync(exceptions));
    }

    [Fact]
    public async Task Invalid_signature_answers_401_and_neither_sends_nor_parks()
    {
        var sender = new RecordingMessageSender();
        var alerts = new RecordingMessageSender();
        var (ingress, exceptions) = await CreateAsync(alerts);
        var function = new WebhookFunction(ingress, sender);
        var request = FunctionTestKit.Post(ReturnCreated, Sign(ReturnCreated, "some-other-secret"));

        var (status, _, _, body) = await FunctionTestKit.ExecuteAsync(await function.Run(request), request);

        Assert.Equal(401, status);
        Assert.Equal("invalid_signature", JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
        Assert.Empty(sender.Sent);
        Assert.Empty(alerts.Sent);
        Assert.Empty(await AllRecordsAsync(exceptions));
    }

    [Fact]
    public async Task Missing_signature_header_answers_401()
    {
        var sender = new RecordingMessageSender();
        var (ingress, _) = await CreateAsync(new RecordingMessageSender());
        var request = FunctionTestKit.Post(ReturnCreated, signature: null);

        var (status, _, _, _) = await FunctionTestKit.ExecuteAsync(await new WebhookFunction(ingress, sender).Run(request), request);

        Assert.Equal(401, status);
        Assert.Empty(sender.Sent);
    }

    [Fact]
    public async Task Service_bus_send_failure_answers_503_with_retry_after_so_loop_retries()
    {
        var (ingress, _) = await CreateAsync(new RecordingMessageSender());
        var failing = new ScriptedQueueSender { Failure = new InvalidOperationException("The AMQP link is closed.") };
        await using var sender = new ServiceBusMessageSender(_ => failing, NullLogger<ServiceBusMessageSender>.Instance);
        var request = FunctionTestKit.Post(ReturnCreated, Sign(ReturnCreated));

        var (status, headers, _, body) = await FunctionTestKit.ExecuteAsync(await new WebhookFunction(ingress, sender).Run(request), request);

        Assert.Equal(503, status);
        Assert.Equal("120", headers.RetryAfter.ToString());
        Assert.Equal("enqueue_failed", JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
        Assert.Equal(1, failing.Attempts);
    }

    [Fact]
    public async Task Signed_unroutable_event_is_parked_in_table_storage_and_answered_202()
    {
        var sender = new RecordingMessageSender();
        var alerts = new RecordingMessageSender();
        var (ingress, exceptions) = await CreateAsync(alerts);
        var unknown = Utf8("""{"topic":"happy.returns.shipment","trigger":"shipment.processed","return_id":4242}""");
        var request = FunctionTestKit.Post(unknown, Sign(unknown), declareLength: false);

        var (status, _, _, body) = await FunctionTestKit.ExecuteAsync(await new WebhookFunction(ingress, sender).Run(request), request);

        Assert.Equal(202, status);
        Assert.Equal("parked", JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
        Assert.Empty(sender.Sent);
        var record = Assert.Single(await AllRecordsAsync(exceptions));
        Assert.Equal(ExceptionCategory.UnknownTopic, record.Category);
        Assert.Equal("4242", record.ReturnId);
        Assert.Single(alerts.On(QueueNames.Exceptions));
    }

    [Fact]
    public void Webhook_is_an_anonymous_post_on_api_loop_webhooks_so_the_signature_is_its_only_authentication()
    {
        var run = typeof(WebhookFunction).GetMethod(nameof(WebhookFunction.Run))!;

        Assert.Equal("LoopWebhook", run.GetCustomAttributes(typeof(FunctionAttribute), false).Cast<FunctionAttribute>().Single().Name);
        var trigger = run.GetParameters()[0].GetCustomAttributes(typeof(HttpTriggerAttribute), false).Cast<HttpTriggerAttribute>().Single();
        Assert.Equal(AuthorizationLevel.Anonymous, trigger.AuthLevel);
        Assert.Equal(["post"], trigger.Methods ?? []);
        Assert.Equal("loop/webhooks", trigger.Route);
    }

    [Fact]
    public async Task Action_result_writes_the_core_response_unchanged()
    {
        var (ingress, _) = await CreateAsync(new RecordingMessageSender());
        var request = FunctionTestKit.Post(ReturnCreated, Sign(ReturnCreated));
        var response = await ingress.HandleAndSendAsync(WebhookHttp.ToWebhookRequest(request), new UnavailableMessageSender(), CancellationToken.None);

        var (status, headers, contentType, body) = await FunctionTestKit.ExecuteAsync(new WebhookActionResult(response), request);

        Assert.Equal(response.StatusCode, status);
        Assert.Equal(response.RetryAfterHeaderValue, headers.RetryAfter.ToString());
        Assert.Equal(WebhookResponse.ContentType, contentType);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(response.Body.Span), body);
        Assert.Equal(response.Body.Length, request.HttpContext.Response.ContentLength);
    }
}

/// <summary>A per-queue sending link whose outcome the test decides; records what reached it.</summary>
internal sealed class ScriptedQueueSender : IQueueSender
{
    private int _attempts;

    public Exception? Failure { get; set; }

    public TaskCompletionSource? Gate { get; set; }

    public int Attempts => Volatile.Read(ref _attempts);

    public bool Disposed { get; private set; }

    public System.Collections.Concurrent.ConcurrentQueue<OutgoingServiceBusMessage> Sent { get; } = new();

    public async Task SendAsync(OutgoingServiceBusMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Failure is { } failure)
        {
            throw failure;
        }

        Sent.Enqueue(message);
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
