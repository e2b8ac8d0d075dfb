using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>Signature, body limit, envelope and message identity: the request path without storage.</summary>
public class WebhookIngressTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<WebhookIngressResult> Deliver(byte[] body, string? signature, string secondary = "", bool declareLength = true)
    {
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), secondarySecret: secondary);
        return await ingress.HandleAsync(IngressHarness.Request(body, signature, declareLength), Ct);
    }

    [Fact]
    public async Task Valid_signature_is_accepted_with_one_message_keyed_by_return_and_content()
    {
        var body = Fixture("return-created.json");

        var result = await Deliver(body, Sign(body));

        Assert.Equal(202, result.Response.StatusCode);
        var message = Assert.IsType<OutboundMessage>(result.Message);
        Assert.Equal(QueueNames.LoopReturns, message.Queue);
        Assert.Equal("6042537", message.SessionId);
        Assert.True(body.AsSpan().SequenceEqual(message.Body.Span), "the message body must be the raw body as received");
        Assert.Equal("return", message.Properties["topic"]);
        Assert.Equal("return.created", message.Properties["trigger"]);
        Assert.Equal("6042537", message.Properties["returnId"]);
        // The nested address.state ("New York") must not be mistaken for the return state.
        Assert.Equal("open", message.Properties["state"]);
        Assert.Equal(message.MessageId, message.Properties["dedupeKey"]);

        // The documented identity: SHA-256 over trigger, return id, state, edited/updated/label-updated at, SHA-256(body).
        var key = "loopfulfil.webhook.v1|return.created|6042537|open|2020-10-29T16:07:33+00:00|";
        byte[] expectedInput = [.. Encoding.UTF8.GetBytes(key), .. SHA256.HashData(body)];
        Assert.Equal(Sha256Hex(expectedInput), message.MessageId);
        Assert.True(message.MessageId.Length <= 128);
    }

    [Fact]
    public async Task Missing_signature_is_401_and_nothing_is_enqueued()
    {
        var result = await Deliver(Fixture("return-created.json"), null);

        Assert.Equal(401, result.Response.StatusCode);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task Signature_made_with_a_secret_that_is_not_configured_is_401()
    {
        var body = Fixture("return-created.json");

        var result = await Deliver(body, Sign(body, "stale-secret-from-last-year"), secondary: SecondarySecret);

        Assert.Equal(401, result.Response.StatusCode);
        Assert.Null(result.Message);
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(result.Response.Body.Span).Replace("invalid_signature", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("AAAA")]
    [InlineData("")]
    public async Task Malformed_or_short_signature_header_is_401(string header)
    {
        var result = await Deliver(Fixture("return-created.json"), header);

        Assert.Equal(401, result.Response.StatusCode);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task Secondary_secret_is_accepted_during_rotation()
    {
        var body = Fixture("return-created.json");

        var result = await Deliver(body, Sign(body, SecondarySecret), secondary: SecondarySecret);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.NotNull(result.Message);
    }

    [Fact]
    public async Task Body_changed_after_signing_is_401()
    {
        var body = Fixture("return-created.json");
        var signature = Sign(body);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"refund\": \"0.13\"", "\"refund\": \"99.13\"", StringComparison.Ordinal));
        Assert.False(body.AsSpan().SequenceEqual(tampered));

        var result = await Deliver(tampered, signature);

        Assert.Equal(401, result.Response.StatusCode);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task Declared_oversize_body_is_413_without_reading_it()
    {
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), maxBodyBytes: 4096);
        var stream = new CountingStream(10_000_000);

        var result = await ingress.HandleAsync(new WebhookRequest(stream, "c2ln", 10_000_000), Ct);

        Assert.Equal(413, result.Response.StatusCode);
        Assert.Null(result.Message);
        Assert.Equal(0, stream.BytesRead);
    }

    [Fact]
    public async Task Undeclared_oversize_body_is_413_after_reading_at_most_limit_plus_one_byte()
    {
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), maxBodyBytes: 4096);
        var stream = new CountingStream(10_000_000);

        var result = await ingress.HandleAsync(new WebhookRequest(stream, "c2ln", null), Ct);

        Assert.Equal(413, result.Response.StatusCode);
        Assert.Null(result.Message);
        Assert.InRange(stream.BytesRead, 4097, 4097);
    }

    [Theory]
    [InlineData(null, 400)]
    [InlineData(408, 408)]
    public async Task Body_the_client_breaks_off_is_answered_with_a_4xx_and_a_reason(int? kestrelStatus, int expected)
    {
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var broken = kestrelStatus is int status ? new Microsoft.AspNetCore.Http.BadHttpRequestException("too slow", status) : new IOException("connection reset");

        var result = await ingress.HandleAsync(new WebhookRequest(new BreakingStream(broken), "c2ln", 1000), Ct);

        Assert.Equal(expected, result.Response.StatusCode);
        Assert.Equal("body_unreadable", result.Response.Reason);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task Body_of_exactly_the_limit_is_read_and_verified()
    {
        var body = Fixture("restock-requested.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), maxBodyBytes: body.Length);

        var declared = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);
        var undeclared = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body), declareLength: false), Ct);

        Assert.Equal(202, declared.Response.StatusCode);
        Assert.Equal(202, undeclared.Response.StatusCode);
        Assert.Equal(declared.Message!.MessageId, undeclared.Message!.MessageId);
    }

    [Fact]
    public async Task Body_longer_than_its_declared_length_is_still_bounded_and_verified_in_full()
    {
        var body = Fixture("restock-requested.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed());

        // A host that does not enforce framing passes a stream longer than Content-Length.
        var result = await ingress.HandleAsync(new WebhookRequest(new MemoryStream(body), Sign(body), body.Length - 10), Ct);

        Assert.Equal(202, result.Response.StatusCode);
        Assert.True(body.AsSpan().SequenceEqual(result.Message!.Body.Span));
    }

    [Fact]
    public async Task Numeric_and_string_return_ids_give_the_same_message_id_and_session()
    {
        var asString = Utf8("""{"topic":"return","trigger":"return.updated","id":"6042537","state":"closed","edited_at":"2024-05-01T10:00:00+00:00","line_items":[{"line_item_id":"59160778","sku":"AU1022E00000"}]}""");
        var asNumber = Utf8("""{"topic":"return","trigger":"return.updated","id":6042537,"state":"closed","edited_at":"2024-05-01T10:00:00+00:00","line_items":[{"line_item_id":"59160778","sku":"AU1022E00000"}]}""");

        var a = (await Deliver(asString, Sign(asString))).Message!;
        var b = (await Deliver(asNumber, Sign(asNumber))).Message!;

        Assert.Equal("6042537", a.SessionId);
        Assert.Equal(a.SessionId, b.SessionId);
        Assert.Equal(a.Properties["returnId"], b.Properties["returnId"]);
        Assert.Equal(a.MessageId, b.MessageId);
    }

    [Fact]
    public async Task Gift_card_numeric_and_string_return_ids_give_the_same_message_id()
    {
        var asNumber = Utf8("""{"topic":"giftcard","trigger":"giftcard.requested","id":12345,"total_credit_issued":"23.50","return_id":23456}""");
        var asString = Utf8("""{"topic":"giftcard","trigger":"giftcard.requested","id":"12345","total_credit_issued":"23.50","return_id":"23456"}""");

        var a = (await Deliver(asNumber, Sign(asNumber))).Message!;
        var b = (await Deliver(asString, Sign(asString))).Message!;

        Assert.Equal("23456", a.SessionId);
        Assert.Equal(a.MessageId, b.MessageId);
    }

    [Fact]
    public async Task Same_webhook_delivered_five_times_has_the_same_message_id_each_time()
    {
        var body = Fixture("return-created.json");
        var ids = new HashSet<string>();

        for (var i = 0; i < 5; i++)
        {
            var result = await Deliver(body, Sign(body));
            Assert.Equal(202, result.Response.StatusCode);
            ids.Add(result.Message!.MessageId);
        }

        Assert.Single(ids);
    }

    [Fact]
    public async Task A_state_change_of_the_same_return_gets_a_different_message_id()
    {
        var open = Utf8("""{"topic":"return","trigger":"return.updated","id":77,"state":"open","edited_at":"2024-05-01T10:00:00+00:00"}""");
        var closed = Utf8("""{"topic":"return","trigger":"return.updated","id":77,"state":"closed","edited_at":"2024-05-01T10:05:00+00:00"}""");

        var a = (await Deliver(open, Sign(open))).Message!;
        var b = (await Deliver(closed, Sign(closed))).Message!;

        Assert.Equal(a.SessionId, b.SessionId);
        Assert.NotEqual(a.MessageId, b.MessageId);
        Assert.Equal("closed", b.Properties["state"]);
    }

    [Fact]
    public async Task Gift_card_with_trailing_comma_routes_by_return_id_not_gift_card_id()
    {
        var body = Fixture("giftcard-requested-trailing-comma.json");

        var result = await Deliver(body, Sign(body));

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Equal("23456", result.Message!.SessionId);
        Assert.Equal("giftcard.requested", result.Message.Properties["trigger"]);
    }

    [Theory]
    [InlineData("restock-requested.json", "restock.requested", "12345")]
    [InlineData("label-updated-id.json", "label.updated", "12345")]
    [InlineData("label-updated-return-id.json", "label.updated", "12345")]
    [InlineData("return-processing-failed.json", "return.processing.failed", "1673")]
    public async Task Each_routed_trigger_goes_to_loop_returns_in_its_return_session(string fixture, string trigger, string returnId)
    {
        var body = Fixture(fixture);

        var result = await Deliver(body, Sign(body));

        Assert.Equal(202, result.Response.StatusCode);
        Assert.Equal(QueueNames.LoopReturns, result.Message!.Queue);
        Assert.Equal(trigger, result.Message.Properties["trigger"]);
        Assert.Equal(returnId, result.Message.SessionId);
    }

    [Fact]
    public async Task Failed_send_in_the_direct_host_turns_the_answer_into_503_with_retry_after()
    {
        var body = Fixture("return-created.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var sender = new UnavailableMessageSender();

        var response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, Sign(body)), sender, Ct);

        Assert.Equal(1, sender.Calls);
        Assert.Equal(503, response.StatusCode);
        Assert.Equal("120", response.RetryAfterHeaderValue);
        Assert.Equal(503, ingress.EnqueueFailed().StatusCode);
    }

    [Fact]
    public async Task Queue_that_never_answers_is_given_up_after_the_storage_timeout_with_503_and_retry_after()
    {
        var body = Fixture("return-created.json");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), time: time);
        var sender = new NeverAnsweringSender();

        var pending = ingress.HandleAndSendAsync(IngressHarness.Request(body, Sign(body)), sender, Ct);
        var answeredBeforeTimeout = pending.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(new WebhookOptions().StorageTimeoutSeconds));
        var response = await pending;

        Assert.False(answeredBeforeTimeout);
        Assert.Equal(1, sender.Calls);
        Assert.Equal(503, response.StatusCode);
        Assert.Equal("enqueue_failed", response.Reason);
        Assert.Equal("120", response.RetryAfterHeaderValue);
    }

    [Fact]
    public async Task Direct_host_sends_the_message_and_answers_202()
    {
        var body = Fixture("return-created.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var sender = new RecordingMessageSender();

        var response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, Sign(body)), sender, Ct);

        Assert.Equal(202, response.StatusCode);
        var sent = Assert.Single(sender.Sent);
        Assert.Equal("6042537", sent.SessionId);
    }

    [Fact]
    public async Task Without_a_configured_secret_every_delivery_gets_503_so_loop_keeps_it()
    {
        var body = Fixture("return-created.json");
        using var ingress = IngressHarness.Create(new NoStorageAllowed(), secret: "");

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body, "")), Ct);

        Assert.Equal(503, result.Response.StatusCode);
        Assert.NotNull(result.Response.RetryAfter);
        Assert.Null(result.Message);
    }
}
