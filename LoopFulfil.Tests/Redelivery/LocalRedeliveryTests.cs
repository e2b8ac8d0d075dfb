using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static LoopFulfil.Tests.LocalHost.LocalHostTestSupport;

namespace LoopFulfil.Tests.Redelivery;

/// <summary>Backoff and dead letters on the single-machine host: the real dispatcher and sender on Azurite.</summary>
public sealed class LocalRedeliveryTests
{
    private const string Body = "{\"id\":\"5150\",\"state\":\"open\"}";

    private readonly ListLogger<QueueDispatcher> _logger = new();

    private static async Task<(DelayRecordingQueueStore Store, string Queue)> NewQueueAsync(bool sendDelaysToStore)
    {
        var store = new DelayRecordingQueueStore(await AzuriteTestServer.CreateQueueStoreAsync()) { SendDelaysToStore = sendDelaysToStore };
        var queue = AzuriteTestServer.UniqueQueueName("redeliver");
        await store.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        return (store, queue);
    }

    private static Task<RedeliveryParts> PartsAsync(IQueueStore store, RedeliveryOptions options) =>
        RedeliveryParts.CreateAsync(options, (tables, claims, clock) => new LocalMessageSender(store, tables, claims, Options.Create(FastOptions()), clock, NullLogger<LocalMessageSender>.Instance));

    private QueueDispatcher Dispatcher(IQueueStore store, string queue, RedeliveryParts parts, Func<InboundMessage, CancellationToken, Task> handler) =>
        new(queue, (m, ct) => parts.Redelivery.HandleAsync(queue, m, handler, ct), store, FastOptions(), new DeadLetterPoisonSink(parts.Recorder).OnPoisonedAsync, TimeProvider.System, _logger);

    [Fact]
    public async Task Transient_failure_is_re_enqueued_hidden_for_its_retry_after_and_not_retried_at_once()
    {
        var (store, queue) = await NewQueueAsync(sendDelaysToStore: true);
        var parts = await PartsAsync(store, new RedeliveryOptions { MaxAttempts = 5, BaseDelay = TimeSpan.FromSeconds(5), MaxDelay = TimeSpan.FromHours(1) });
        var calls = 0;
        await SendEnvelopeAsync(store, queue, "evt-1", "5150", Body);

        using (var dispatcher = Dispatcher(store, queue, parts, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TransientIntegrationException("Fulfil answered 429", null, TimeSpan.FromMinutes(10));
        }))
        {
            await dispatcher.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => store.Sends.Count >= 2 && !store.Deletes.IsEmpty, "the copy sent and the original deleted");
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var (_, copyBody, delay) = store.Sends.Last();
        Assert.True(LocalQueueEnvelope.TryDecode(copyBody, out var copy, out var error), error);
        Assert.Equal(TimeSpan.FromMinutes(10), delay);
        Assert.Equal(("evt-1~r1", "5150", "1"), (copy!.MessageId, copy.SessionId, copy.Properties[MessageRedelivery.AttemptsProperty]));
        Assert.Equal(Body, Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Equal(1, calls);

        // The copy waits out its delay in the queue; the original is gone.
        Assert.Equal(1, await store.GetApproximateCountAsync(queue, CancellationToken.None));
        Assert.Empty(await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Empty(await parts.RecordsAsync());
    }

    [Fact]
    public async Task Repeated_transient_failures_back_off_exponentially_then_park_as_a_replayable_record()
    {
        // Delays are recorded but not applied, so the chain runs without waiting them out.
        var (store, queue) = await NewQueueAsync(sendDelaysToStore: false);
        var parts = await PartsAsync(store, new RedeliveryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(5), MaxDelay = TimeSpan.FromHours(1) });
        var calls = 0;
        await SendEnvelopeAsync(store, queue, "evt-2", "5150", Body, new Dictionary<string, string> { ["returnId"] = "5150" });

        using (var dispatcher = Dispatcher(store, queue, parts, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TransientIntegrationException("Fulfil answered 503");
        }))
        {
            await dispatcher.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => store.Deletes.Count >= 3, "three deliveries completed");
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var listed = Assert.Single(await parts.RecordsAsync());
        var record = (await parts.Exceptions.GetAsync(listed.Id, CancellationToken.None))!;
        Assert.Equal(3, calls);
        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)], store.Sends.Skip(1).Select(s => s.Delay));
        Assert.Equal((ExceptionCategory.DeadLettered, "5150", queue), (record.Category, record.ReturnId, record.ReplayQueue));
        Assert.Contains(MessageRedelivery.AttemptsExhaustedReason, record.Message, StringComparison.Ordinal);
        Assert.Equal(Body, Encoding.UTF8.GetString(record.RawEvent.Span));
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));

        var replay = await parts.Exceptions.ReplayAsync(record.Id, CancellationToken.None);

        Assert.Equal(ReplayOutcome.Replayed, replay.Outcome);
        var replayed = Assert.Single(await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.True(LocalQueueEnvelope.TryDecode(replayed.Body, out var envelope, out _));
        Assert.Equal(replay.MessageId, envelope!.MessageId);
        Assert.DoesNotContain("evt-2", envelope.MessageId, StringComparison.Ordinal);
        Assert.Equal(Body, Encoding.UTF8.GetString(envelope.Body.Span));
    }

    [Fact]
    public async Task Poisoned_message_becomes_a_dead_lettered_record_with_its_body_and_replays_under_a_fresh_id()
    {
        var (store, queue) = await NewQueueAsync(sendDelaysToStore: true);
        var parts = await PartsAsync(store, new RedeliveryOptions());
        var calls = 0;
        await SendEnvelopeAsync(store, queue, "evt-3", null, Body, new Dictionary<string, string> { ["returnId"] = "5150" });

        using (var dispatcher = Dispatcher(store, queue, parts, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new PermanentIntegrationException("Fulfil refused the exchange order");
        }))
        {
            await dispatcher.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => !store.Deletes.IsEmpty, "the message moved to the poison queue");
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var listed = Assert.Single(await parts.RecordsAsync());
        var replay = await parts.Exceptions.ReplayAsync(listed.Id, CancellationToken.None);

        Assert.Equal(1, calls);
        Assert.Equal(ExceptionCategory.DeadLettered, listed.Category);
        Assert.Contains(PoisonReasons.PermanentFailure, listed.Message, StringComparison.Ordinal);
        Assert.Equal(ReplayOutcome.Replayed, replay.Outcome);
        Assert.NotEqual("evt-3", replay.MessageId);
        var replayed = Assert.Single(await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.True(LocalQueueEnvelope.TryDecode(replayed.Body, out var envelope, out _));
        Assert.Equal((replay.MessageId, Body), (envelope!.MessageId, Encoding.UTF8.GetString(envelope.Body.Span)));
    }
}
