using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.LocalHost;

// Settling a delivery: complete, abandon or release, poison; lock renewal; the backoff and partition helpers.
public sealed partial class QueueDispatcher
{
    private TimeSpan Backoff(int deliveryCount, Exception failure)
    {
        var wanted = failure is TransientIntegrationException { RetryAfter: { } retryAfter }
            ? retryAfter
            : TimeSpan.FromSeconds(Math.Pow(2, Math.Min(deliveryCount - 1, 16)));
        return wanted < _maxBackoff ? wanted : _maxBackoff;
    }

    private Task CompleteAsync(Delivery delivery) => SettleAsync(delivery, TimeSpan.Zero, complete: true);

    /// <summary>Deletes (complete) or makes visible after <paramref name="visibleAfter"/> (abandon/release).</summary>
    private async Task SettleAsync(Delivery delivery, TimeSpan visibleAfter, bool complete)
    {
        await delivery.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (delivery.MoveToSettled() == Settled)
            {
                return;
            }

            if (complete)
            {
                if (!await _store.DeleteAsync(_queue, delivery.StoreId, delivery.PopReceipt, CancellationToken.None).ConfigureAwait(false))
                {
                    _completedUndeleted[delivery.StoreId] = _time.GetUtcNow() + (_visibility * 3);
                    LogCompletedButLockLost(_queue, delivery.StoreId);
                }
            }
            else
            {
                await _store.UpdateVisibilityAsync(_queue, delivery.StoreId, delivery.PopReceipt, visibleAfter, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            delivery.Gate.Release();
            Forget(delivery);
        }
    }

    private async Task PoisonAsync(Delivery delivery, InboundMessage message, string reason, string? error)
    {
        var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal)
        {
            ["DeadLetterReason"] = reason,
            ["DeadLetterErrorDescription"] = error ?? string.Empty,
            ["DeadLetterSource"] = _queue,
            ["DeliveryCount"] = message.DeliveryCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var envelope = new LocalQueueEnvelope(message.MessageId, message.SessionId, properties, message.Body, _time.GetUtcNow());
        await _store.SendAsync(_poisonQueue, envelope.Encode(), null, CancellationToken.None).ConfigureAwait(false);
        LogPoisoned(_queue, message.MessageId, reason, message.DeliveryCount);

        if (_onPoison is not null)
        {
            try
            {
                await _onPoison(new PoisonedMessage(_queue, _poisonQueue, message, reason, error), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The message is safe in the poison queue; a failing callback must not bring it back for handling.
                LogOnPoisonFailed(ex, _queue, message.MessageId);
            }
        }

        await CompleteAsync(delivery).ConfigureAwait(false);
    }

    private async Task RenewLocksAsync(CancellationToken stop)
    {
        var tick = _renewEvery / 2;
        while (!stop.IsCancellationRequested)
        {
            if (!await DelayAsync(tick, stop).ConfigureAwait(false))
            {
                return;
            }

            var now = _time.GetUtcNow();
            var due = _held.Values.Where(d => d.State != Settled && d.LockedUntil - now <= _visibility - _renewEvery).ToList();
            if (due.Count > 0)
            {
                await Task.WhenAll(due.Select(RenewAsync)).ConfigureAwait(false);
            }
        }
    }

    private async Task RenewAsync(Delivery delivery)
    {
        await delivery.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (delivery.State == Settled || !delivery.ReceiptValid)
            {
                return;
            }

            var now = _time.GetUtcNow();
            try
            {
                delivery.PopReceipt = await _store.UpdateVisibilityAsync(_queue, delivery.StoreId, delivery.PopReceipt, _visibility, CancellationToken.None).ConfigureAwait(false);
                delivery.LockedUntil = now + _visibility;
            }
            catch (Exception ex)
            {
                if (ex is QueueMessageLockLostException || now >= delivery.LockedUntil)
                {
                    // The store says the receipt is stale, or the lock has run out anyway.
                    delivery.ReceiptValid = false;
                    LogLockLost(ex, _queue, delivery.StoreId);
                }
                else
                {
                    LogRenewFailed(ex, _queue, delivery.StoreId);
                }
            }
        }
        finally
        {
            delivery.Gate.Release();
        }
    }

    private async Task ReleaseHeldAsync()
    {
        // Oldest first: queue order follows visibility time, so this keeps each session's order among them.
        foreach (var delivery in _held.Values.OrderBy(d => d.Sequence))
        {
            try
            {
                await SettleAsync(delivery, TimeSpan.Zero, complete: false).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // It reappears when its lock runs out anyway.
                LogReleaseFailed(ex, _queue, delivery.StoreId);
            }
        }
    }

    private async Task<bool> TryDeleteAsync(string storeId, string popReceipt)
    {
        try
        {
            return await _store.DeleteAsync(_queue, storeId, popReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogSettleFailed(ex, _queue, storeId);
            return false;
        }
    }

    private void Forget(Delivery delivery)
    {
        if (_held.TryRemove(new KeyValuePair<string, Delivery>(delivery.StoreId, delivery)))
        {
            _capacityFreed.Release();
        }
    }

    private void PurgeCompletedUndeleted()
    {
        if (_completedUndeleted.IsEmpty)
        {
            return;
        }

        var now = _time.GetUtcNow();
        foreach (var (id, until) in _completedUndeleted)
        {
            if (until < now)
            {
                _completedUndeleted.TryRemove(id, out _);
            }
        }
    }

    /// <returns>False when cancelled.</returns>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> WaitAsync(Task task, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource();
        var delay = Task.Delay(timeout, _time, cts.Token);
        var first = await Task.WhenAny(task, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        return first == task;
    }

    private static string Describe(Exception ex)
    {
        var text = $"{ex.GetType().FullName}: {ex.Message}";
        return text.Length <= 1024 ? text : text[..1024];
    }

    /// <summary>The partition (lane) that handles every message of <paramref name="sessionId"/>.</summary>
    internal static int PartitionOf(string sessionId, int partitions) => (int)(StableHash(sessionId) % (uint)partitions);

    // FNV-1a: string.GetHashCode is randomised per process; a stable hash keeps partition choice reproducible in logs.
    private static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}
