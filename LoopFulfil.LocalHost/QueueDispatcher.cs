using System.Collections.Concurrent;
using System.Threading.Channels;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.LocalHost;

/// <summary>
/// The single-machine stand-in for a Service Bus queue trigger: receives <see cref="LocalQueueEnvelope"/>s from one
/// Azure Queue Storage queue and runs a handler for each, with Service Bus peek-lock semantics.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Lock: a received message is hidden for <see cref="LocalHostOptions.VisibilityTimeoutSeconds"/> and renewed
/// every third of that for as long as it is held, running or waiting its turn, so a slow handler or a long wait
/// behind a session's earlier message never lets it reappear and run twice or out of order.</item>
/// <item>Sessions: a message goes to partition <c>hash(SessionId) % Partitions</c>; each partition runs one handler at
/// a time in receipt order, so one session's messages run in order. Messages without a session go round-robin.
/// <see cref="LocalHostOptions.Partitions"/> bounds concurrency.</item>
/// <item>Failure: the hosts run handlers through <see cref="Core.Redelivery.MessageRedelivery"/>, which turns a transient
/// failure into a delayed copy and returns, so what reaches the dispatcher is a failure that is not transient (or a
/// copy that could not be sent). A message without a session is abandoned (visible again after a backoff, DeliveryCount from the
/// store's dequeue count). A session message is retried in place after the backoff, still locked, so later messages
/// of its session cannot overtake it; its DeliveryCount counts those retries too.</item>
/// <item>Poison: after <see cref="LocalHostOptions.MaxDeliveryCount"/> failed deliveries, on a
/// <see cref="PermanentIntegrationException"/>, or for an unreadable envelope, the message is copied to
/// <c>{queue}-poison</c> (with <c>DeadLetterReason</c> and <c>DeadLetterErrorDescription</c> properties), the
/// onPoison callback runs, and the original is deleted.</item>
/// <item>Shutdown: receiving stops; messages already held (running or waiting) are handled for up to
/// <see cref="LocalHostOptions.ShutdownGraceSeconds"/>; after that handlers are cancelled and what is still held is
/// released (visible at once), oldest first. Nothing is lost: every message is deleted only after its handler
/// succeeded or it was safely in the poison queue.</item>
/// </list>
/// </remarks>
public sealed partial class QueueDispatcher : BackgroundService
{
    private readonly string _queue;
    private readonly string _poisonQueue;
    private readonly Func<InboundMessage, CancellationToken, Task> _handler;
    private readonly Func<PoisonedMessage, CancellationToken, Task>? _onPoison;
    private readonly IQueueStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<QueueDispatcher> _logger;

    private readonly int _partitions;
    private readonly int _maxDeliveryCount;
    private readonly TimeSpan _visibility;
    private readonly TimeSpan _renewEvery;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _shutdownGrace;
    private readonly TimeSpan _maxBackoff;
    private readonly int _maxHeld;

    private readonly ConcurrentDictionary<string, Delivery> _held = new(StringComparer.Ordinal);

    // Completed messages whose delete lost a race with a lock expiry: if they come back, delete them unhandled.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _completedUndeleted = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _capacityFreed = new(0);
    private readonly CancellationTokenSource _hardStop = new();
    private Channel<Delivery>[] _lanes = [];
    private long _sequence;
    private int _roundRobin;

    /// <param name="queue">The queue to drain.</param>
    /// <param name="handler">Runs once per delivery; returning completes the message, throwing fails the delivery.</param>
    /// <param name="store">The queue store.</param>
    /// <param name="options">Partitions, lock, delivery count, polling and shutdown settings.</param>
    /// <param name="onPoison">Called once per message moved to the poison queue (failures are logged, not retried).</param>
    /// <param name="time">Clock and timers.</param>
    /// <param name="logger">Logs ids, counts and exception types; never payloads.</param>
    public QueueDispatcher(
        string queue,
        Func<InboundMessage, CancellationToken, Task> handler,
        IQueueStore store,
        LocalHostOptions options,
        Func<PoisonedMessage, CancellationToken, Task>? onPoison,
        TimeProvider time,
        ILogger<QueueDispatcher> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        _queue = queue;
        _poisonQueue = PoisonQueueName(queue);
        _handler = handler;
        _onPoison = onPoison;
        _store = store;
        _time = time;
        _logger = logger;
        _partitions = options.Partitions;
        _maxDeliveryCount = options.MaxDeliveryCount;
        _visibility = TimeSpan.FromSeconds(options.VisibilityTimeoutSeconds);
        _renewEvery = _visibility / 3;
        _pollInterval = TimeSpan.FromMilliseconds(options.PollIntervalMilliseconds);
        _shutdownGrace = TimeSpan.FromSeconds(options.ShutdownGraceSeconds);
        _maxBackoff = TimeSpan.FromSeconds(options.MaxRetryBackoffSeconds);

        // Enough prefetch to keep every partition busy, small enough that renewing the waiting ones stays cheap.
        _maxHeld = Math.Clamp(_partitions * 4, 8, 128);
    }

    /// <summary>The queue this dispatcher drains.</summary>
    public string Queue => _queue;

    /// <summary>Where poisoned messages of <paramref name="queue"/> go.</summary>
    public static string PoisonQueueName(string queue) => queue + "-poison";

    public override void Dispose()
    {
        _hardStop.Dispose();
        _capacityFreed.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let host start-up finish before the first storage call.
        await Task.Yield();

        if (!await EnsureQueuesAsync(stoppingToken).ConfigureAwait(false))
        {
            return;
        }

        _lanes = new Channel<Delivery>[_partitions];
        var workers = new Task[_partitions];
        for (var i = 0; i < _partitions; i++)
        {
            _lanes[i] = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var lane = _lanes[i];
            workers[i] = Task.Run(() => RunLaneAsync(lane.Reader), CancellationToken.None);
        }

        using var renewalStop = new CancellationTokenSource();
        var renewal = Task.Run(() => RenewLocksAsync(renewalStop.Token), CancellationToken.None);

        await ReceiveLoopAsync(stoppingToken).ConfigureAwait(false);

        // Stopping: no more receives. Held messages get the grace period to finish, in order.
        foreach (var lane in _lanes)
        {
            lane.Writer.TryComplete();
        }

        var allWorkers = Task.WhenAll(workers);
        var finished = await WaitAsync(allWorkers, _shutdownGrace).ConfigureAwait(false);
        if (!finished)
        {
            LogGraceExpired(_queue, _held.Count);
            await _hardStop.CancelAsync().ConfigureAwait(false);
            await ReleaseHeldAsync().ConfigureAwait(false);

            // Handlers were cancelled; give them a moment to unwind so their logs are not cut off.
            await WaitAsync(allWorkers, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }

        // Normally empty by now; anything left (a lane that gave up on a message) must not wait out its lock.
        await ReleaseHeldAsync().ConfigureAwait(false);

        await renewalStop.CancelAsync().ConfigureAwait(false);
        await renewal.ConfigureAwait(false);
    }

    private async Task<bool> EnsureQueuesAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _store.CreateQueueIfNotExistsAsync(_queue, stoppingToken).ConfigureAwait(false);
                await _store.CreateQueueIfNotExistsAsync(_poisonQueue, stoppingToken).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                LogStoreUnavailable(ex, _queue);
                await DelayAsync(_pollInterval * 5, stoppingToken).ConfigureAwait(false);
            }
        }

        return false;
    }

    private async Task ReceiveLoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var capacity = _maxHeld - _held.Count;
            if (capacity <= 0)
            {
                try
                {
                    await _capacityFreed.WaitAsync(_pollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            IReadOnlyList<QueueStoreMessage> received;
            try
            {
                // Not the stopping token: a receive cancelled half-way could hide messages we never learn about.
                // They would come back after the lock, but a cleanly finished receive is released at once.
                received = await _store.ReceiveAsync(_queue, Math.Min(32, capacity), _visibility, _hardStop.Token).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                LogReceiveFailed(ex, _queue, failures);
                await DelayAsync(_pollInterval * Math.Min(failures, 10), stoppingToken).ConfigureAwait(false);
                continue;
            }

            PurgeCompletedUndeleted();
            foreach (var message in received)
            {
                await AcceptAsync(message).ConfigureAwait(false);
            }

            if (received.Count == 0)
            {
                await DelayAsync(_pollInterval, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task AcceptAsync(QueueStoreMessage message)
    {
        var lockedUntil = _time.GetUtcNow() + _visibility;
        if (_completedUndeleted.TryRemove(message.MessageId, out _))
        {
            LogDeletingCompletedRedelivery(_queue, message.MessageId);
            await TryDeleteAsync(message.MessageId, message.PopReceipt).ConfigureAwait(false);
            return;
        }

        if (_held.TryGetValue(message.MessageId, out var existing))
        {
            // Our lock on it lapsed and we received it again. Keep its place in line with the new receipt.
            await existing.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (existing.State != Settled)
                {
                    existing.PopReceipt = message.PopReceipt;
                    existing.DequeueCount = message.DequeueCount;
                    existing.LockedUntil = lockedUntil;
                    existing.ReceiptValid = true;
                    LogLockRecovered(_queue, message.MessageId);
                    return;
                }
            }
            finally
            {
                existing.Gate.Release();
            }

            // Settled (released or completed) meanwhile: what follows treats it as a fresh delivery, or as a
            // completed one if the completion was recorded.
            if (_completedUndeleted.TryRemove(message.MessageId, out _))
            {
                await TryDeleteAsync(message.MessageId, message.PopReceipt).ConfigureAwait(false);
                return;
            }
        }

        LocalQueueEnvelope.TryDecode(message.Body, out var envelope, out var decodeError);
        var delivery = new Delivery(message.MessageId, Interlocked.Increment(ref _sequence), envelope, decodeError, message.Body)
        {
            PopReceipt = message.PopReceipt,
            DequeueCount = message.DequeueCount,
            LockedUntil = lockedUntil,
        };
        _held[message.MessageId] = delivery;

        var lane = envelope?.SessionId is { } session
            ? PartitionOf(session, _partitions)
            : (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)_partitions);
        if (!_lanes[lane].Writer.TryWrite(delivery))
        {
            // Lanes close only after the receive loop has ended, so this is a defect guard: release it now.
            LogLaneClosed(_queue, message.MessageId);
            await SettleAsync(delivery, TimeSpan.Zero, complete: false).ConfigureAwait(false);
        }
    }

    private async Task RunLaneAsync(ChannelReader<Delivery> reader)
    {
        await foreach (var delivery in reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (_hardStop.IsCancellationRequested)
            {
                // The grace period is over; ReleaseHeldAsync has made these visible again.
                continue;
            }

            try
            {
                await ProcessAsync(delivery).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A store failure while settling: the message is still locked or will reappear, so nothing is lost.
                LogSettleFailed(ex, _queue, delivery.StoreId);
                Forget(delivery);
            }
        }
    }

    private async Task ProcessAsync(Delivery delivery)
    {
        if (!delivery.ReceiptValid)
        {
            // Its lock lapsed while it waited and nobody received it again yet: it is visible in the queue and will
            // come back as a new delivery.
            if (delivery.TryMove(Waiting, Settled))
            {
                LogLockLostWhileWaiting(_queue, delivery.StoreId);
                Forget(delivery);
            }

            return;
        }

        if (!delivery.TryMove(Waiting, Running))
        {
            return;
        }

        if (delivery.Envelope is null)
        {
            var raw = new InboundMessage(delivery.RawBody, delivery.StoreId, null, delivery.DequeueCount, new Dictionary<string, string>());
            await PoisonAsync(delivery, raw, PoisonReasons.MalformedEnvelope, delivery.DecodeError).ConfigureAwait(false);
            return;
        }

        var envelope = delivery.Envelope;
        while (true)
        {
            var deliveryCount = delivery.DequeueCount + delivery.LocalRetries;
            var message = new InboundMessage(envelope.Body, envelope.MessageId, envelope.SessionId, deliveryCount, envelope.Properties);
            if (deliveryCount > _maxDeliveryCount)
            {
                // A previous delivery used the last attempt and never finished (a crash or a lost lock).
                await PoisonAsync(delivery, message, PoisonReasons.MaxDeliveryCountExceeded, $"Delivered {deliveryCount - 1} times without completing.").ConfigureAwait(false);
                return;
            }

            Exception failure;
            try
            {
                await _handler(message, _hardStop.Token).ConfigureAwait(false);
                await CompleteAsync(delivery).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
            {
                // Shutdown cut it short; ReleaseHeldAsync makes it visible again.
                return;
            }
            catch (PermanentIntegrationException ex)
            {
                LogHandlerFailed(ex, _queue, envelope.MessageId, deliveryCount);
                await PoisonAsync(delivery, message, PoisonReasons.PermanentFailure, Describe(ex)).ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                LogHandlerFailed(ex, _queue, envelope.MessageId, deliveryCount);
                failure = ex;
            }

            if (deliveryCount >= _maxDeliveryCount)
            {
                await PoisonAsync(delivery, message, PoisonReasons.MaxDeliveryCountExceeded, Describe(failure)).ConfigureAwait(false);
                return;
            }

            var backoff = Backoff(deliveryCount, failure);
            if (envelope.SessionId is null)
            {
                await SettleAsync(delivery, backoff, complete: false).ConfigureAwait(false);
                return;
            }

            // Session message: retry in place, keeping the lock (renewed meanwhile) and the session's order. Only
            // the end of the shutdown grace interrupts the wait; the release then keeps the session's order.
            if (!await DelayAsync(backoff, _hardStop.Token).ConfigureAwait(false) || _hardStop.IsCancellationRequested)
            {
                return;
            }

            delivery.LocalRetries++;
        }
    }
}
