using System.Collections.Concurrent;
using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Scheduling;
using static LoopFulfil.Tests.LocalHost.LocalHostTestSupport;

namespace LoopFulfil.Tests.LocalHost;

/// <summary>The queue dispatcher against real Azure Queue Storage semantics (Azurite).</summary>
public sealed class QueueDispatcherTests
{
    private readonly ListLogger<QueueDispatcher> _logger = new();

    private static async Task<(AzureQueueStore Store, string Queue)> NewQueueAsync()
    {
        var store = await AzuriteTestServer.CreateQueueStoreAsync();
        var queue = AzuriteTestServer.UniqueQueueName("disp");
        await store.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        return (store, queue);
    }

    private QueueDispatcher Dispatcher(
        IQueueStore store,
        string queue,
        Func<InboundMessage, CancellationToken, Task> handler,
        LocalHostOptions? options = null,
        Func<PoisonedMessage, CancellationToken, Task>? onPoison = null) =>
        new(queue, handler, store, options ?? FastOptions(), onPoison, TimeProvider.System, _logger);

    private static string[] SessionsInDistinctPartitions(int count, int partitions)
    {
        var chosen = new List<string>();
        var used = new HashSet<int>();
        for (var i = 0; chosen.Count < count; i++)
        {
            var session = $"return-{i}";
            if (used.Add(QueueDispatcher.PartitionOf(session, partitions)))
            {
                chosen.Add(session);
            }
        }

        return [.. chosen];
    }

    [Fact]
    public async Task Each_session_is_handled_in_order_while_sessions_run_concurrently()
    {
        var (store, queue) = await NewQueueAsync();
        var sessions = SessionsInDistinctPartitions(3, 4);
        var handled = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        var inFlight = new ConcurrentDictionary<string, int>();
        var concurrent = 0;
        var maxConcurrent = 0;
        var total = 0;
        var sessionOverlap = false;

        async Task Handle(InboundMessage message, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref maxConcurrent, now);
            if (inFlight.AddOrUpdate(message.SessionId!, 1, (_, n) => n + 1) > 1)
            {
                sessionOverlap = true;
            }

            await Task.Delay(10, ct);
            handled.GetOrAdd(message.SessionId!, _ => new ConcurrentQueue<int>()).Enqueue(int.Parse(Encoding.UTF8.GetString(message.Body.Span), System.Globalization.CultureInfo.InvariantCulture));
            inFlight.AddOrUpdate(message.SessionId!, 0, (_, n) => n - 1);
            Interlocked.Decrement(ref concurrent);
            Interlocked.Increment(ref total);
        }

        // Half before the dispatcher starts (a backlog), half while it runs; sessions interleaved.
        for (var i = 0; i < 10; i++)
        {
            foreach (var session in sessions)
            {
                await SendEnvelopeAsync(store, queue, $"{session}-{i}", session, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        using var dispatcher = Dispatcher(store, queue, Handle);
        await dispatcher.StartAsync(CancellationToken.None);
        for (var i = 10; i < 20; i++)
        {
            foreach (var session in sessions)
            {
                await SendEnvelopeAsync(store, queue, $"{session}-{i}", session, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        await WaitUntilAsync(() => Volatile.Read(ref total) >= 60, "60 messages handled");
        await dispatcher.StopAsync(CancellationToken.None);

        foreach (var session in sessions)
        {
            Assert.Equal(Enumerable.Range(0, 20), handled[session]);
        }

        Assert.False(sessionOverlap, "two messages of one session ran at the same time");
        Assert.True(maxConcurrent >= 2, $"sessions in different partitions never overlapped (max {maxConcurrent})");
        Assert.Equal(60, total);
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Message_whose_handler_throws_is_redelivered_with_the_next_delivery_count()
    {
        var (store, queue) = await NewQueueAsync();
        var deliveries = new ConcurrentQueue<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendEnvelopeAsync(store, queue, "m-1", null, "{}");

        using var dispatcher = Dispatcher(store, queue, (message, _) =>
        {
            deliveries.Enqueue(message.DeliveryCount);
            if (message.DeliveryCount == 1)
            {
                throw new TransientIntegrationException("Fulfil answered 503");
            }

            done.TrySetResult();
            return Task.CompletedTask;
        });
        await dispatcher.StartAsync(CancellationToken.None);
        await done.Task.Guarded();
        await WaitUntilAsync(() => store.GetApproximateCountAsync(queue, CancellationToken.None).Result == 0, "the message deleted");
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal([1, 2], deliveries);
        Assert.Contains(_logger.Entries, e => e.Exception is TransientIntegrationException);
    }

    [Fact]
    public async Task Failed_session_message_is_retried_before_the_next_message_of_its_session()
    {
        var (store, queue) = await NewQueueAsync();
        var log = new ConcurrentQueue<string>();
        await SendEnvelopeAsync(store, queue, "first", "return-7", "first");
        await SendEnvelopeAsync(store, queue, "second", "return-7", "second");
        await SendEnvelopeAsync(store, queue, "third", "return-7", "third");

        using var dispatcher = Dispatcher(store, queue, (message, _) =>
        {
            log.Enqueue($"{message.MessageId}#{message.DeliveryCount}");
            return message.MessageId == "first" && message.DeliveryCount < 3
                ? throw new TransientIntegrationException("timeout")
                : Task.CompletedTask;
        });
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => log.Count >= 5, "five deliveries");
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(["first#1", "first#2", "first#3", "second#1", "third#1"], log);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("return-9")]
    public async Task Message_failing_every_delivery_moves_to_poison_queue_after_max_delivery_count(string? sessionId)
    {
        var (store, queue) = await NewQueueAsync();
        var deliveries = new ConcurrentQueue<int>();
        var poisoned = new ConcurrentQueue<PoisonedMessage>();
        await SendEnvelopeAsync(store, queue, "doomed", sessionId, "{\"id\":1}", new Dictionary<string, string> { ["topic"] = "return.closed" });

        using var dispatcher = Dispatcher(
            store,
            queue,
            (message, _) =>
            {
                deliveries.Enqueue(message.DeliveryCount);
                throw new InvalidOperationException("handler bug");
            },
            FastOptions(o => o.MaxDeliveryCount = 3),
            (message, _) =>
            {
                poisoned.Enqueue(message);
                return Task.CompletedTask;
            });
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => !poisoned.IsEmpty, "the poison callback");

        // Several more polls and a lock period: nothing may come back.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal([1, 2, 3], deliveries);
        var poison = Assert.Single(poisoned);
        Assert.Equal(queue, poison.Queue);
        Assert.Equal(queue + "-poison", poison.PoisonQueue);
        Assert.Equal(PoisonReasons.MaxDeliveryCountExceeded, poison.Reason);
        Assert.Contains("handler bug", poison.ErrorDescription, StringComparison.Ordinal);
        Assert.Equal("doomed", poison.Message.MessageId);
        Assert.Equal(3, poison.Message.DeliveryCount);

        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));
        var dead = Assert.Single(await PeekAllAsync(store, queue + "-poison"));
        Assert.Equal("doomed", dead.MessageId);
        Assert.Equal(sessionId, dead.SessionId);
        Assert.Equal("{\"id\":1}", Encoding.UTF8.GetString(dead.Body.Span));
        Assert.Equal("return.closed", dead.Properties["topic"]);
        Assert.Equal(PoisonReasons.MaxDeliveryCountExceeded, dead.Properties["DeadLetterReason"]);
        Assert.Equal("3", dead.Properties["DeliveryCount"]);
    }

    [Fact]
    public async Task Permanent_failure_is_poisoned_on_the_first_delivery_without_retries()
    {
        var (store, queue) = await NewQueueAsync();
        var deliveries = 0;
        var poisoned = new ConcurrentQueue<PoisonedMessage>();
        await SendEnvelopeAsync(store, queue, "bad-sku", "return-3", "{}");

        using var dispatcher = Dispatcher(
            store,
            queue,
            (_, _) =>
            {
                Interlocked.Increment(ref deliveries);
                throw new PermanentIntegrationException("Unknown SKU");
            },
            onPoison: (message, _) =>
            {
                poisoned.Enqueue(message);
                return Task.CompletedTask;
            });
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => !poisoned.IsEmpty, "the poison callback");
        await Task.Delay(TimeSpan.FromSeconds(1));
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(1, deliveries);
        Assert.Equal(PoisonReasons.PermanentFailure, Assert.Single(poisoned).Reason);
        Assert.Single(await PeekAllAsync(store, queue + "-poison"));
    }

    [Fact]
    public async Task Unreadable_queue_message_is_poisoned_without_reaching_the_handler()
    {
        var (store, queue) = await NewQueueAsync();
        var handled = 0;
        var poisoned = new ConcurrentQueue<PoisonedMessage>();
        await store.SendAsync(queue, Encoding.UTF8.GetBytes("plain text someone typed in a storage explorer"), null, CancellationToken.None);

        using var dispatcher = Dispatcher(
            store,
            queue,
            (_, _) =>
            {
                Interlocked.Increment(ref handled);
                return Task.CompletedTask;
            },
            onPoison: (message, _) =>
            {
                poisoned.Enqueue(message);
                return Task.CompletedTask;
            });
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => !poisoned.IsEmpty, "the poison callback");
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(0, handled);
        var poison = Assert.Single(poisoned);
        Assert.Equal(PoisonReasons.MalformedEnvelope, poison.Reason);
        Assert.Equal("plain text someone typed in a storage explorer", Encoding.UTF8.GetString(poison.Message.Body.Span));
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Handler_slower_than_the_visibility_timeout_is_not_delivered_twice()
    {
        var (store, queue) = await NewQueueAsync();
        var invocations = 0;
        var concurrent = 0;
        var maxConcurrent = 0;
        var waitingBehind = new ConcurrentQueue<int>();
        await SendEnvelopeAsync(store, queue, "slow", "return-5", "slow");
        await SendEnvelopeAsync(store, queue, "behind", "return-5", "behind");

        using var dispatcher = Dispatcher(store, queue, async (message, ct) =>
        {
            if (message.MessageId == "behind")
            {
                waitingBehind.Enqueue(message.DeliveryCount);
                return;
            }

            Interlocked.Increment(ref invocations);
            InterlockedMax(ref maxConcurrent, Interlocked.Increment(ref concurrent));

            // Two and a half lock periods (lock: 2 s).
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
            Interlocked.Decrement(ref concurrent);
        });
        await dispatcher.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => !waitingBehind.IsEmpty, "the message behind the slow one");

        // Past another lock period: a lapsed lock would show up as a second delivery now.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(1, invocations);
        Assert.Equal(1, maxConcurrent);

        // The message waiting its turn behind the slow one was held the whole time, not redelivered.
        Assert.Equal([1], waitingBehind);
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Message_received_again_after_its_lock_lapsed_is_not_handled_twice()
    {
        var (store, queue) = await NewQueueAsync();
        var flaky = new RenewalsFailFor(store, TimeSpan.FromSeconds(3.5));
        var invocations = 0;
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendEnvelopeAsync(store, queue, "long", "return-6", "x");

        using var dispatcher = Dispatcher(flaky, queue, async (_, ct) =>
        {
            Interlocked.Increment(ref invocations);

            // Renewals fail for the first 3.5 s, so the 2 s lock lapses and the message is received again meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            finished.TrySetResult();
        });
        await dispatcher.StartAsync(CancellationToken.None);
        await finished.Task.Guarded();
        await WaitUntilAsync(() => store.GetApproximateCountAsync(queue, CancellationToken.None).Result == 0, "the message deleted");
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.True(flaky.FailedRenewals > 0, "the lock never lapsed: the test proved nothing");
        Assert.Equal(1, invocations);
        Assert.Contains(_logger.Entries, e => e.Message.Contains("kept its place", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shutdown_lets_a_running_handler_and_the_held_messages_finish_within_the_grace_period()
    {
        var (store, queue) = await NewQueueAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var completed = new ConcurrentQueue<string>();
        await SendEnvelopeAsync(store, queue, "running", "return-1", "a");
        await SendEnvelopeAsync(store, queue, "held", "return-1", "b");

        using var dispatcher = Dispatcher(store, queue, async (message, _) =>
        {
            if (message.MessageId == "running")
            {
                started.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(1.5), CancellationToken.None);
            }

            completed.Enqueue(message.MessageId);
        });
        await dispatcher.StartAsync(CancellationToken.None);
        await started.Task.Guarded();

        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(["running", "held"], completed);
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public async Task Shutdown_past_the_grace_period_releases_the_message_for_redelivery()
    {
        var (store, queue) = await NewQueueAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = false;
        await SendEnvelopeAsync(store, queue, "stuck", "return-2", "a");
        await SendEnvelopeAsync(store, queue, "next", "return-2", "b");

        var first = Dispatcher(
            store,
            queue,
            async (message, ct) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }
                catch (OperationCanceledException)
                {
                    sawCancellation = true;
                    throw;
                }
            },
            // The lock (the longest allowed) outlasts the hang guard: a redelivery seen below did not wait for it to end.
            FastOptions(o => { o.ShutdownGraceSeconds = 1; o.VisibilityTimeoutSeconds = 300; }));
        await first.StartAsync(CancellationToken.None);
        await started.Task.Guarded();
        await first.StopAsync(CancellationToken.None);
        first.Dispose();
        Assert.True(sawCancellation);

        // Visible again at once (not after the lock), in order, and counted as a delivery.
        var redelivered = new ConcurrentQueue<(string Id, int Count)>();
        using var second = Dispatcher(store, queue, (message, _) =>
        {
            redelivered.Enqueue((message.MessageId, message.DeliveryCount));
            return Task.CompletedTask;
        }, FastOptions(o => o.VisibilityTimeoutSeconds = 60));
        await second.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => redelivered.Count >= 2, "both messages redelivered");
        await second.StopAsync(CancellationToken.None);

        Assert.Equal([("stuck", 2), ("next", 2)], redelivered);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>The real store, except that lock renewals fail for a while, as when the store is briefly unreachable.</summary>
    private sealed class RenewalsFailFor(IQueueStore inner, TimeSpan period) : IQueueStore
    {
        private readonly DateTime _until = DateTime.UtcNow + period;
        private int _failed;

        public int FailedRenewals => Volatile.Read(ref _failed);

        public Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken) => inner.CreateQueueIfNotExistsAsync(queue, cancellationToken);

        public Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken) =>
            inner.SendAsync(queue, body, initialVisibilityDelay, cancellationToken);

        public Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
            inner.ReceiveAsync(queue, maxMessages, visibilityTimeout, cancellationToken);

        public Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken) =>
            inner.DeleteAsync(queue, messageId, popReceipt, cancellationToken);

        public Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
        {
            if (visibilityTimeout > TimeSpan.Zero && DateTime.UtcNow < _until)
            {
                Interlocked.Increment(ref _failed);
                throw new TransientStorageException("store unreachable", 503, "ServerBusy");
            }

            return inner.UpdateVisibilityAsync(queue, messageId, popReceipt, visibilityTimeout, cancellationToken);
        }

        public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => inner.GetApproximateCountAsync(queue, cancellationToken);
    }
}
