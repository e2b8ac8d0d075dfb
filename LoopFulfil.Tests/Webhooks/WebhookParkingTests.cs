using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>Signed events that cannot be routed are parked in Table Storage (Azurite), never lost.</summary>
public class WebhookParkingTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<(WebhookIngress Ingress, ExceptionService Exceptions, RecordingMessageSender Alerts)> CreateAsync()
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var alerts = new RecordingMessageSender();
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var ingress = IngressHarness.Create(store, alerts, blobs: blobs);
        var exceptions = new ExceptionService(store, blobs, alerts, new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ExceptionService>.Instance);
        return (ingress, exceptions, alerts);
    }

    private static async Task<ExceptionRecord> SingleRecordAsync(ExceptionService exceptions, ExceptionCategory category)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in exceptions.ListAsync(null, category, Ct))
        {
            records.Add(r);
        }

        var listed = Assert.Single(records);
        return (await exceptions.GetAsync(listed.Id, Ct))!;
    }

    [Fact]
    public async Task Signed_malformed_json_is_accepted_and_parked_with_raw_body_and_owner()
    {
        var (ingress, exceptions, alerts) = await CreateAsync();
        var body = Utf8("""{"topic":"return","trigger":"return.created","id":123,"state":"open","line_items":[{"sku":"A"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Equal("parked", result.Response.Reason);
        Assert.Null(result.Message);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Equal("operations", record.Owner);
        Assert.Equal(ExceptionStatus.Open, record.Status);
        Assert.True(body.AsSpan().SequenceEqual(record.RawEvent.Span));
        Assert.Contains("not well-formed JSON", record.Message, StringComparison.Ordinal);
        var alert = Assert.Single(alerts.On(QueueNames.Exceptions));
        Assert.Equal("UnparseableEvent", alert.Properties["category"]);
    }

    [Fact]
    public async Task Signed_body_with_invalid_utf8_inside_a_json_string_is_parked_with_its_raw_body_not_answered_500()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        byte[] body = [.. """{"topic":"return","trigger":"return.created","id":"123","state":"op"""u8, 0xC3, 0x28, .. """en"}"""u8];

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Equal("parked", result.Response.Reason);
        Assert.Null(result.Message);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Equal("operations", record.Owner);
        Assert.Contains("not valid UTF-8", record.Message, StringComparison.Ordinal);
        Assert.True(body.AsSpan().SequenceEqual(record.RawEvent.Span));
    }

    [Theory]
    [InlineData("""{"topic":"return","trigger":"return.\ud800created","id":"123","state":"open"}""")]
    [InlineData("""{"topic":"return","trigger":"return.created","id":"123","state":"\udc00open"}""")]
    [InlineData("""{"topic":"return","trigger":"return.created","id":"123","state":"open","line_items":[{"sku":"\ud800"}]}""")]
    public async Task Signed_body_with_an_escaped_lone_surrogate_is_parked_not_answered_500(string json)
    {
        var (ingress, exceptions, _) = await CreateAsync();
        var body = Utf8(json);

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Equal("parked", result.Response.Reason);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Contains("not valid Unicode", record.Message, StringComparison.Ordinal);
        Assert.True(body.AsSpan().SequenceEqual(record.RawEvent.Span));
    }

    [Fact]
    public async Task Signed_unknown_trigger_with_control_characters_is_parked_with_a_printable_trigger()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        var body = Utf8("""{"topic":"return","trigger":"shipment.\u0000processed","return_id":"123"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnknownTopic);
        Assert.Contains("shipment.\uFFFDprocessed", record.Message, StringComparison.Ordinal);
        Assert.True(body.AsSpan().SequenceEqual(record.RawEvent.Span));
    }

    [Fact]
    public async Task Signed_unknown_trigger_is_parked_as_unknown_topic()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        var body = Utf8("""{"topic":"happy.returns.shipment","trigger":"shipment.processed","shipment_id":"s-1","return_id":99}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Null(result.Message);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnknownTopic);
        Assert.Equal("99", record.ReturnId);
        Assert.Contains("shipment.processed", record.Message, StringComparison.Ordinal);
        Assert.True(body.AsSpan().SequenceEqual(record.RawEvent.Span));
    }

    [Fact]
    public async Task Signed_empty_body_is_parked_not_dropped()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        byte[] body = [];

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Contains("empty body", record.Message, StringComparison.Ordinal);
        Assert.Equal(0, record.RawEventLength);
    }

    [Fact]
    public async Task Signed_event_without_a_return_id_is_parked()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        var body = Utf8("""{"topic":"giftcard","trigger":"giftcard.requested","id":null,"total_credit_issued":"23.50"}""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Contains("no usable Loop return id", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loop_retrying_the_same_bad_delivery_bumps_one_record()
    {
        var (ingress, exceptions, _) = await CreateAsync();
        var body = Utf8("""{"topic":"return","trigger":"return.created",""");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(202, (await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct)).Response.StatusCode);
        }

        var record = await SingleRecordAsync(exceptions, ExceptionCategory.UnparseableEvent);
        Assert.Equal(3, record.Attempts);
    }

    [Fact]
    public async Task Unsigned_garbage_is_401_and_never_parked()
    {
        var (ingress, exceptions, alerts) = await CreateAsync();
        var body = Utf8("{not json");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body, "wrong")), Ct);

        Assert.Equal(401, result.Response.StatusCode);
        await foreach (var _ in exceptions.ListAsync(null, null, Ct))
        {
            Assert.Fail("an unsigned body must not create an exception record");
        }

        Assert.Empty(alerts.Sent);
    }

    [Fact]
    public async Task Parking_with_storage_down_answers_503_with_retry_after()
    {
        // A real adapter pointed at a closed loopback port, without retries: storage is simply unreachable.
        var unreachable = StorageAccount.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={LoopFulfil.Sandbox.Azurite.AzuriteProcess.AccountKey};TableEndpoint=http://127.0.0.1:9/devstoreaccount1;");
        var clientOptions = new StorageClientOptions();
        clientOptions.Retry.MaxRetries = 0;
        using var ingress = IngressHarness.Create(new AzureTableStore(unreachable, clientOptions: clientOptions));
        var body = Utf8("""{"topic":"return","trigger":"return.created",""");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);

        Assert.Equal(503, result.Response.StatusCode);
        Assert.Equal("120", result.Response.RetryAfterHeaderValue);
        Assert.Null(result.Message);
    }
}
