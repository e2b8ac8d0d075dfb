using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Scheduling;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static LoopFulfil.Tests.LocalHost.LocalHostTestSupport;

namespace LoopFulfil.Tests.LocalHost;

/// <summary>The local sender and its duplicate detection on Azurite queues and tables.</summary>
public sealed class LocalMessageSenderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 10, 9, 0, 0, TimeSpan.Zero));

    private static OutboundMessage Message(string queue, string id, string? session = "return-1", string body = "{\"id\":\"R-1\"}") =>
        new(queue, Encoding.UTF8.GetBytes(body), id, session, new Dictionary<string, string> { ["topic"] = "return.created" });

    private async Task<(LocalMessageSender Sender, AzureQueueStore Queues, AzureTableStore Tables, string Queue)> NewSenderAsync(
        Func<IQueueStore, IQueueStore>? wrapQueues = null, int windowHours = 24)
    {
        var queues = await AzuriteTestServer.CreateQueueStoreAsync();

        // A table prefix of its own keeps this test's dedupe table apart from every other test's.
        var tables = new AzureTableStore(
            StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()),
            tablePrefix: AzuriteTestServer.UniqueTableName("s"));
        var queue = AzuriteTestServer.UniqueQueueName("send");
        var sender = new LocalMessageSender(
            wrapQueues?.Invoke(queues) ?? queues,
            tables,
            new ClaimCheck(await AzuriteTestServer.CreateBlobStoreAsync(), _time),
            Options.Create(new LocalHostOptions { DuplicateDetectionWindowHours = windowHours }),
            _time,
            new ListLogger<LocalMessageSender>());
        return (sender, queues, tables, queue);
    }

    [Fact]
    public async Task Sent_message_is_an_envelope_carrying_id_session_properties_and_body()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();

        await sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None);

        var envelope = Assert.Single(await PeekAllAsync(queues, queue));
        Assert.Equal("evt-1", envelope.MessageId);
        Assert.Equal("return-1", envelope.SessionId);
        Assert.Equal("return.created", envelope.Properties["topic"]);
        Assert.Equal("{\"id\":\"R-1\"}", Encoding.UTF8.GetString(envelope.Body.Span));
        Assert.Equal(_time.GetUtcNow(), envelope.EnqueuedAt);
    }

    [Fact]
    public async Task Same_message_id_sent_twice_within_the_window_is_enqueued_once()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();

        var first = await sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(23));
        var second = await sender.SendWithOutcomeAsync(Message(queue, "evt-1", body: "{\"id\":\"R-1\",\"retry\":true}"), CancellationToken.None);

        Assert.Equal(LocalSendOutcome.Enqueued, first);
        Assert.Equal(LocalSendOutcome.DroppedDuplicate, second);
        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Same_message_id_is_sent_again_once_the_window_has_passed()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();

        await sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var again = await sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None);
        var third = await sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None);

        Assert.Equal(LocalSendOutcome.Enqueued, again);
        Assert.Equal(LocalSendOutcome.DroppedDuplicate, third);
        Assert.Equal(2, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Same_message_id_on_two_queues_is_two_messages()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();
        var other = AzuriteTestServer.UniqueQueueName("send");

        await sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None);
        await sender.SendAsync(Message(other, "evt-1"), CancellationToken.None);

        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
        Assert.Equal(1, await queues.GetApproximateCountAsync(other, CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_sends_of_one_message_id_enqueue_it_once()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();

        // A send that finds another one still pending is refused as transient (the caller tries again), not dropped.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                return (LocalSendOutcome?)await sender.SendWithOutcomeAsync(Message(queue, "evt-burst"), CancellationToken.None);
            }
            catch (TransientIntegrationException)
            {
                return null;
            }
        }));

        Assert.Single(outcomes, o => o == LocalSendOutcome.Enqueued);
        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Failed_send_does_not_count_as_sent_so_the_retry_goes_through()
    {
        var failing = default(FailFirstSend);
        var (sender, queues, _, queue) = await NewSenderAsync(q => failing = new FailFirstSend(q));

        await Assert.ThrowsAsync<TransientIntegrationException>(() => sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None));
        var retry = await sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None);

        Assert.Equal(LocalSendOutcome.Enqueued, retry);
        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Repeat_of_a_message_whose_sender_died_between_claim_and_send_is_refused_as_transient_not_dropped_then_sent()
    {
        var (sender, queues, tables, queue) = await NewSenderAsync();
        await tables.CreateTableIfNotExistsAsync(LocalMessageSender.DedupeTable, CancellationToken.None);
        await tables.InsertAsync(
            LocalMessageSender.DedupeTable,
            new TableEntity(queue, "evt-1") { ["State"] = "Pending", ["SentAt"] = _time.GetUtcNow() },
            CancellationToken.None);

        // Dropping this repeat as a duplicate would answer Loop 202 for a webhook that never reached the queue (issue 13 chaos run).
        var whileInFlight = await Assert.ThrowsAsync<TransientIntegrationException>(() => sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None));
        await queues.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        var queuedMeanwhile = await queues.GetApproximateCountAsync(queue, CancellationToken.None);
        _time.Advance(LocalMessageSender.PendingClaimTimeout + TimeSpan.FromSeconds(1));
        var afterTimeout = await sender.SendWithOutcomeAsync(Message(queue, "evt-1"), CancellationToken.None);

        Assert.Equal(LocalMessageSender.PendingClaimTimeout, whileInFlight.RetryAfter);
        Assert.Equal(0, queuedMeanwhile);
        Assert.Equal(LocalSendOutcome.Enqueued, afterTimeout);
        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Prune_deletes_only_rows_older_than_the_window()
    {
        var (sender, _, tables, queue) = await NewSenderAsync();
        await sender.SendAsync(Message(queue, "old"), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(20));
        await sender.SendAsync(Message(queue, "recent"), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(5));

        var deleted = await sender.PruneDuplicateDetectionAsync(CancellationToken.None);

        Assert.Equal(1, deleted);
        Assert.Null(await tables.GetAsync(LocalMessageSender.DedupeTable, queue, "old", CancellationToken.None));
        Assert.NotNull(await tables.GetAsync(LocalMessageSender.DedupeTable, queue, "recent", CancellationToken.None));
    }

    [Fact]
    public async Task Window_of_zero_turns_duplicate_detection_off()
    {
        var (sender, queues, _, queue) = await NewSenderAsync(windowHours: 0);

        await sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None);
        await sender.SendAsync(Message(queue, "evt-1"), CancellationToken.None);

        Assert.Equal(2, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Message_whose_properties_alone_exceed_a_queue_message_is_a_permanent_error_and_nothing_is_sent()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();
        var properties = new Dictionary<string, string> { ["note"] = new string('x', LocalQueueEnvelope.MaxEncodedBytes) };

        var error = await Assert.ThrowsAsync<PermanentIntegrationException>(() => sender.SendAsync(
            new OutboundMessage(queue, Encoding.UTF8.GetBytes("{}"), "evt-big", null, properties), CancellationToken.None));

        Assert.Contains("evt-big", error.Message, StringComparison.Ordinal);
        await queues.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        Assert.Equal(0, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Body_too_large_for_a_queue_message_is_claim_checked_and_enqueued_once()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();
        var huge = "\"" + new string('x', LocalQueueEnvelope.MaxEncodedBytes) + "\"";

        await sender.SendAsync(Message(queue, "evt-big", body: huge), CancellationToken.None);
        var outcome = await sender.SendWithOutcomeAsync(Message(queue, "evt-big", body: huge), CancellationToken.None);

        var envelope = Assert.Single(await PeekAllAsync(queues, queue));
        Assert.Equal(LocalSendOutcome.DroppedDuplicate, outcome);
        Assert.True(envelope.Body.IsEmpty);
        var reference = envelope.Properties[ClaimCheck.ReferenceProperty].Split(':');
        Assert.Equal(Encoding.UTF8.GetByteCount(huge).ToString(System.Globalization.CultureInfo.InvariantCulture), reference[1]);
    }

    [Fact]
    public async Task Duplicate_message_id_sent_twice_is_handled_once_end_to_end()
    {
        var (sender, queues, _, queue) = await NewSenderAsync();
        var handled = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await sender.SendAsync(Message(queue, "evt-1", "return-8"), CancellationToken.None);
        await sender.SendAsync(Message(queue, "evt-1", "return-8"), CancellationToken.None);
        await sender.SendAsync(Message(queue, "evt-2", "return-8"), CancellationToken.None);

        using var dispatcher = new QueueDispatcher(
            queue,
            (message, _) =>
            {
                handled.Enqueue(message.MessageId);
                return Task.CompletedTask;
            },
            queues,
            FastOptions(),
            null,
            TimeProvider.System,
            new ListLogger<QueueDispatcher>());
        await dispatcher.StartAsync(CancellationToken.None);

        // One session: had the duplicate been enqueued it would be handled before evt-2.
        await WaitUntilAsync(() => handled.Contains("evt-2"), "the message after the duplicate");
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(["evt-1", "evt-2"], handled);
    }

    /// <summary>The real store, except that the first send fails the way an unreachable store does.</summary>
    private sealed class FailFirstSend(IQueueStore inner) : IQueueStore
    {
        private int _sends;

        public Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken) => inner.CreateQueueIfNotExistsAsync(queue, cancellationToken);

        public Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _sends) == 1
                ? throw new TransientIntegrationException("connection refused")
                : inner.SendAsync(queue, body, initialVisibilityDelay, cancellationToken);

        public Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
            inner.ReceiveAsync(queue, maxMessages, visibilityTimeout, cancellationToken);

        public Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken) =>
            inner.DeleteAsync(queue, messageId, popReceipt, cancellationToken);

        public Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
            inner.UpdateVisibilityAsync(queue, messageId, popReceipt, visibilityTimeout, cancellationToken);

        public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => inner.GetApproximateCountAsync(queue, cancellationToken);
    }
}
