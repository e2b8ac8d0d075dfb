using System.Globalization;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// One time rule, read once at the ingress and carried in the message: the latest of every time the body carries
/// (each top-level <c>*_at</c>, each label's <c>updated_at</c>), zoneless text as UTC.
/// </summary>
public sealed class EventTimeTests
{
    private static async Task<OutboundMessage> QueuedAsync(byte[] body)
    {
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), CancellationToken.None);
        Assert.Equal(202, result.Response.StatusCode);
        return Assert.IsType<OutboundMessage>(result.Message);
    }

    private static DateTimeOffset? PropertyTime(OutboundMessage message) =>
        WebhookMessageProperties.ParseEventTime(message.Properties[WebhookMessagePropertyNames.EventTime]);

    [Fact]
    public async Task The_message_carries_the_latest_top_level_time_of_the_published_sample()
    {
        // created_at 16:07:31, label_updated_at 16:07:33; the line item's returned_at is not the event's own time.
        var message = await QueuedAsync(Fixture("return-created.json"));

        Assert.Equal(new DateTimeOffset(2020, 10, 29, 16, 7, 33, TimeSpan.Zero), PropertyTime(message));
    }

    [Fact]
    public async Task A_closed_at_and_a_labels_updated_at_count_but_times_nested_elsewhere_do_not()
    {
        var body = Utf8("""
            {"topic":"return","trigger":"return.closed","id":"501","state":"closed","created_at":"2026-11-20T09:00:00+00:00",
             "closed_at":"2026-11-20T10:00:00+00:00","labels":[{"id":1,"updated_at":"2026-11-20T11:30:00+00:00"},{"id":2,"updated_at":"2026-11-20T10:30:00+00:00"}],
             "line_items":[{"id":1,"updated_at":"2026-11-25T00:00:00+00:00"}]}
            """);

        var message = await QueuedAsync(body);

        Assert.Equal(new DateTimeOffset(2026, 11, 20, 11, 30, 0, TimeSpan.Zero), PropertyTime(message));
    }

    [Theory]
    [InlineData("""{"id":"503","state":"closed","created_at":"2026-11-20T09:00:00+00:00","updated_at":"2026-11-20T10:00:00+00:00","closed_at":"2026-11-20T10:00:00+00:00","labels":[{"updated_at":"2026-11-20T11:30:00+00:00"}]}""", "2026-11-20T11:30:00Z")]
    [InlineData("""{"id":"504","state":"open","created_at":"2026-11-20T09:00:00Z","edited_at":"2026-11-20T09:45:27.125Z","label_updated_at":"2026-11-20T09:45:27+00:00"}""", "2026-11-20T09:45:27.125Z")]
    [InlineData("""{"id":"505","state":"open","updated_at":"2026-11-20 09:00:00","closed_at":"2026-11-20T12:00:00+00:00"}""", "2026-11-20T12:00:00Z")]
    public async Task A_return_from_loops_api_gets_the_time_a_webhook_of_it_is_stamped_with(string returnJson, string latestTime)
    {
        var snapshot = LoopJson.Deserialize<LoopReturn>(returnJson);
        var webhook = await QueuedAsync(Utf8("""{"topic":"return","trigger":"return.updated",""" + returnJson[1..]));

        var expected = DateTimeOffset.Parse(latestTime, CultureInfo.InvariantCulture);
        Assert.Equal((expected, expected), (WebhookEnvelope.SnapshotTimeOf(snapshot), PropertyTime(webhook)));
    }

    [Fact]
    public async Task A_time_without_a_zone_is_utc_and_one_with_an_offset_keeps_its_instant()
    {
        var body = Utf8("""{"topic":"return","trigger":"return.updated","id":"502","state":"open","created_at":"2026-11-20 09:00:00","edited_at":"2026-11-20T05:30:00-05:00"}""");

        var message = await QueuedAsync(body);

        Assert.Equal(new DateTimeOffset(2026, 11, 20, 10, 30, 0, TimeSpan.Zero), PropertyTime(message));
    }

    [Fact]
    public async Task A_body_without_a_time_says_so_and_a_time_that_does_not_parse_is_no_time()
    {
        var message = await QueuedAsync(Utf8("""{"topic":"restock","trigger":"restock.requested","id":503,"created_at":"soon","updated_at":{"x":1}}"""));

        Assert.Equal(WebhookMessagePropertyNames.NoEventTime, message.Properties[WebhookMessagePropertyNames.EventTime]);
        Assert.Null(ReturnEvent.From(Inbound(message))!.EventTime);
    }

    [Fact]
    public async Task The_consumer_reads_the_same_event_time_from_the_properties_as_from_the_body()
    {
        var message = await QueuedAsync(Fixture("label-updated-return-id.json"));
        var withoutTime = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal);
        withoutTime.Remove(WebhookMessagePropertyNames.EventTime);

        var fromProperties = ReturnEvent.From(Inbound(message))!;
        var fromBody = ReturnEvent.From(Inbound(message with { Properties = new Dictionary<string, string>(), SessionId = null }))!;

        // label_updated_at of the fixture; return id from return_id.
        var expected = (new DateTimeOffset(2019, 4, 1, 12, 0, 0, TimeSpan.Zero), "12345", "label.updated");
        Assert.Equal(expected, (fromProperties.EventTime!.Value, fromProperties.ReturnId, fromProperties.Trigger));
        Assert.Equal(expected, (fromBody.EventTime!.Value, fromBody.ReturnId, fromBody.Trigger));
        Assert.Equal(expected.Item1, ReturnEvent.From(Inbound(message with { Properties = withoutTime }))!.EventTime);
    }

    [Theory]
    [InlineData("2019-04-01T12:00:00Z")]
    [InlineData("04/01/2019 12:00:00")]
    [InlineData("not a time")]
    public async Task An_event_time_a_host_rewrote_still_reads_as_the_same_instant(string rewritten)
    {
        // A host that turned the property into a DateTime and back, or mangled it: the same instant, or the body's.
        var message = await QueuedAsync(Fixture("label-updated-return-id.json"));
        var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal) { [WebhookMessagePropertyNames.EventTime] = rewritten };

        var evt = ReturnEvent.From(Inbound(message with { Properties = properties }))!;

        Assert.Equal(new DateTimeOffset(2019, 4, 1, 12, 0, 0, TimeSpan.Zero), evt.EventTime);
    }

    private static InboundMessage Inbound(OutboundMessage m) => new(m.Body, m.MessageId, m.SessionId, 1, m.Properties);
}
