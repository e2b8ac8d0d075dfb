using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Loop;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.CatchUp;

/// <summary>
/// The catch-up sweep against the Loop sandbox over HTTP and the returns ledger and watermark on Azurite, with the
/// sweep's clock driven by <see cref="FakeTimeProvider"/> (the returns carry their own fixed Loop times).
/// </summary>
public sealed class CatchUpSweepTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(T0);
    private LoopTestHarness _loop = null!;
    private AzureTableStore _tables = null!;
    private ReturnLedger _ledger = null!;
    private CatchUpWatermarkStore _watermarks = null!;

    public async Task InitializeAsync()
    {
        _loop = await LoopTestHarness.StartAsync();
        _tables = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("cu"));
        _ledger = new ReturnLedger(_tables, await AzuriteTestServer.CreateBlobStoreAsync(), _clock);
        _watermarks = new CatchUpWatermarkStore(_tables);
    }

    public async Task DisposeAsync() => await _loop.DisposeAsync();

    [Fact]
    public async Task Sweep_after_a_two_day_outage_enqueues_exactly_the_returns_whose_snapshot_is_older_and_advances_the_watermark()
    {
        var first = await Sweep(new RecordingMessageSender()).RunAsync(CancellationToken.None);
        InLoop("101", "open", T0.AddHours(3));                                   // never seen: enqueued
        InLoop("102", "open", T0.AddHours(20));
        await Stored("102", "open", T0.AddHours(2));                             // stored older: enqueued
        InLoop("103", "closed", T0.AddHours(30));
        await Stored("103", "closed", T0.AddHours(30));                          // current: not
        InLoop("104", "open", T0.AddHours(10));
        await Stored("104", "open", T0.AddHours(12));                            // stored newer: not
        InLoop("105", "open", T0.AddDays(-3));                                   // before the watermark: not listed
        InLoop("106", "closed", T0.AddHours(40));
        await Stored("106", "open", T0.AddHours(40));                            // same second, later state: enqueued
        _clock.Advance(TimeSpan.FromDays(2));
        var sent = new RecordingMessageSender();

        var result = await Sweep(sent).RunAsync(CancellationToken.None);

        Assert.Equal((0, T0), (first!.Enqueued, first.To));
        Assert.Equal(["101", "102", "106"], sent.Sent.Select(m => m.SessionId!).Order(StringComparer.Ordinal));
        Assert.All(sent.Sent, m => Assert.Equal(QueueNames.LoopReturns, m.Queue));
        Assert.Contains(sent.Sent, m => m.MessageId == CatchUpSweep.MessageIdFor("106", T0.AddHours(40), "closed") && m.Properties["trigger"] == "return.closed");
        Assert.Equal((T0.AddMinutes(-10), T0.AddDays(2), 5, 3), (result!.From, result.To, result.Listed, result.Enqueued));
        Assert.Equal(T0.AddDays(2), (await _watermarks.GetAsync(CancellationToken.None))!.CoveredUntil);
    }

    [Fact]
    public async Task Failed_sweep_leaves_the_watermark_and_the_next_sweep_covers_the_gap_with_the_same_message_ids()
    {
        await Sweep(new RecordingMessageSender()).RunAsync(CancellationToken.None);
        InLoop("201", "open", T0.AddHours(1));
        InLoop("202", "open", T0.AddHours(2));
        _clock.Advance(TimeSpan.FromDays(2));
        var failing = new FailingAfterFirstSender();

        await Assert.ThrowsAsync<TransientIntegrationException>(() => Sweep(failing).RunAsync(CancellationToken.None));
        var afterFailure = await _watermarks.GetAsync(CancellationToken.None);
        var retried = new RecordingMessageSender();
        var result = await Sweep(retried).RunAsync(CancellationToken.None);

        Assert.Equal(T0, afterFailure!.CoveredUntil);
        Assert.Equal(2, result!.Enqueued);
        Assert.Contains(retried.Sent, m => m.MessageId == Assert.Single(failing.Sent).MessageId);
        Assert.Equal(T0.AddDays(2), (await _watermarks.GetAsync(CancellationToken.None))!.CoveredUntil);
    }

    [Fact]
    public async Task Catch_up_message_carries_the_topic_trigger_return_id_and_event_time_the_ingress_stamps_for_that_return_and_the_consumer_reads_no_body()
    {
        await Sweep(new RecordingMessageSender()).RunAsync(CancellationToken.None);
        InLoop("301", "closed", T0.AddHours(5));                                 // updated_at, an hour after created_at
        _clock.Advance(TimeSpan.FromDays(1));
        var sent = new RecordingMessageSender();

        await Sweep(sent).RunAsync(CancellationToken.None);

        var message = Assert.Single(sent.Sent);
        var stamp = EnvelopeStamp.Of(message);
        Assert.Equal(EnvelopeStamp.ByIngress(System.Text.Encoding.UTF8.GetBytes(Json("301", "closed", T0.AddHours(5), "return.closed"))), stamp);
        Assert.Equal(("return", "return.closed", "301"), (stamp.Topic, stamp.Trigger, stamp.ReturnId));
        Assert.Equal(T0.AddHours(5), EnvelopeStamp.EventTime(message));
        var reads = EnvelopeReads.Start();
        var evt = ReturnEvent.From(EnvelopeStamp.Delivered(message))!;
        Assert.Equal(("return.closed", "301", T0.AddHours(5)), (evt.Trigger, evt.ReturnId, evt.EventTime));
        Assert.Equal(0, reads.Reads);
    }

    [Fact]
    public async Task Close_listed_with_an_updated_at_before_the_label_time_of_the_stored_webhook_is_enqueued_not_skipped()
    {
        // Loop's return.updated webhook (open, updated_at 10:00) carried a label the carrier stamped 10:05 (its clock
        // runs ahead of Loop's), so the snapshot was stored at that webhook's time, 10:05. Loop closed the return at
        // 10:02 and that webhook was lost; Loop lists it closed with the same label. 402 is listed as it was stored.
        await Sweep(new RecordingMessageSender()).RunAsync(CancellationToken.None);
        var updatedAt = T0.AddHours(10);
        var labelAt = updatedAt.AddMinutes(5);
        var webhook = System.Text.Encoding.UTF8.GetBytes(Json("401", "open", updatedAt, "return.updated", Label(labelAt)));
        Assert.Equal(labelAt, EnvelopeStamp.EventTime(WebhookIngress.TryBuildMessage(webhook, null, null)!));
        await Stored("401", "open", labelAt);
        _loop.Sandbox.AddReturn(Json("401", "closed", updatedAt.AddMinutes(2), extra: Label(labelAt)), sendCreatedWebhook: false);
        await Stored("402", "open", labelAt);
        _loop.Sandbox.AddReturn(Json("402", "open", updatedAt, extra: Label(labelAt)), sendCreatedWebhook: false);
        _clock.Advance(TimeSpan.FromDays(1));
        var sent = new RecordingMessageSender();

        var result = await Sweep(sent).RunAsync(CancellationToken.None);

        var message = Assert.Single(sent.Sent);
        Assert.Equal((CatchUpSweep.MessageIdFor("401", labelAt, "closed"), labelAt), (message.MessageId, EnvelopeStamp.EventTime(message)));
        Assert.Equal((2, 1), (result!.Listed, result.Enqueued));
    }

    [Fact]
    public async Task Open_listed_with_a_fraction_within_the_second_a_close_was_stored_at_is_skipped_not_reopened()
    {
        // The close was stored from a whole-second webhook at 11:00:00; a lagging list still shows the return open at
        // 11:00:00.400. Within one second the lifecycle decides (closed is later), so the sweep sends nothing.
        await Sweep(new RecordingMessageSender()).RunAsync(CancellationToken.None);
        var closedAt = T0.AddHours(11);
        await Stored("403", "closed", closedAt);
        _loop.Sandbox.AddReturn(
            $$"""{"id": 403, "state": "open", "created_at": "{{Text(closedAt.AddHours(-1))}}", "updated_at": "{{closedAt:yyyy-MM-dd'T'HH:mm:ss}}.400Z"}""",
            sendCreatedWebhook: false);
        _clock.Advance(TimeSpan.FromDays(1));
        var sent = new RecordingMessageSender();

        var result = await Sweep(sent).RunAsync(CancellationToken.None);

        Assert.Empty(sent.Sent);
        Assert.Equal((1, 0), (result!.Listed, result.Enqueued));
    }

    private CatchUpSweep Sweep(IMessageSender sender) => new(
        _loop.Client,
        _ledger,
        sender,
        _watermarks,
        new FixedOptionsMonitor<CatchUpOptions>(new CatchUpOptions { Overlap = TimeSpan.FromMinutes(10), InitialLookback = TimeSpan.Zero }),
        _clock,
        NullLogger<CatchUpSweep>.Instance);

    private void InLoop(string id, string state, DateTimeOffset updatedAt) => _loop.Sandbox.AddReturn(Json(id, state, updatedAt), sendCreatedWebhook: false);

    /// <summary>The return as Loop lists it, or (with a trigger) as its webhook.</summary>
    private static string Json(string id, string state, DateTimeOffset updatedAt, string? trigger = null, string extra = "") =>
        (trigger is null ? "{" : $$"""{"topic": "return", "trigger": "{{trigger}}", """)
        + $$"""
            "id": {{id}}, "state": "{{state}}", "created_at": "{{Text(updatedAt.AddHours(-1))}}", "updated_at": "{{Text(updatedAt)}}"{{extra}}}
            """;

    /// <summary>A labels array (for <see cref="Json"/>) with one label Loop last updated at <paramref name="updatedAt"/>.</summary>
    private static string Label(DateTimeOffset updatedAt) => $$""", "labels": [{"status": "in_transit", "updated_at": "{{Text(updatedAt)}}"}]""";

    private async Task Stored(string id, string state, DateTimeOffset eventTime) =>
        Assert.Equal(SnapshotDecision.Applied, await _ledger.AdvanceSnapshotAsync(id, eventTime, state, System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","state":"{{state}}"}"""), CancellationToken.None));

    private static string Text(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture);

    /// <summary>Sends the first message, then fails like a Service Bus outage.</summary>
    private sealed class FailingAfterFirstSender : IMessageSender
    {
        public ConcurrentQueue<OutboundMessage> Sent { get; } = new();

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            if (!Sent.IsEmpty)
            {
                throw new TransientIntegrationException("Service Bus unavailable");
            }

            Sent.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
