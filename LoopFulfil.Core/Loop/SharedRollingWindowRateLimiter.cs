using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// The cross-process limiter for one API key (<see cref="LoopOptions.SharedRateLimit"/>). Every request needs two
/// permits: one from this process's <see cref="RollingWindowRateLimiter"/> and one from a block claimed in the table
/// through <see cref="SharedWindowLedger"/>. Blocks are claimed for several permits at once, sized to recent demand, so
/// the table sees a write or two per block rather than per request.
/// <para>
/// The same release-time accounting as in one process, across processes: a block may be dispensed for
/// <see cref="LoopOptions.SharedRateLimitBlockHold"/> after its claim; once that is over and every request from it has
/// had its response, the block is closed in the table with the number actually used and the time of the last
/// response. Every request from a block arrives at Loop between the claim and that close, so the other instances
/// count the block until <c>close + window + padding</c>, and an open block until the longest it could stay open
/// (hold + attempt timeout, then window + padding). The padding absorbs clock skew between instances. Unused permits
/// go back at the close. Closes ride on the next claim's write when there is one, else are written on their own.
/// </para>
/// <para>
/// When the table cannot be reached the instance does not stop and does not assume the whole limit: it falls back to a
/// local limiter in which each of its requests weighs <see cref="LoopOptions.SharedRateLimitExpectedInstances"/> (N)
/// permits, seeded with the blocks it last saw in the table and with what was still free then counted as claimed at
/// the outage (the others may have claimed it just before). So it uses its 1/N share of what the seen blocks free as
/// they age out, and after one span 1/N of the limit; N instances in the same outage together stay within it. An
/// instance whose table calls fail while the others' succeed is not covered (they do not see its fallback requests
/// until it recovers); Loop's 429 and the retry pipeline are the backstop there. The table is tried again every sixth
/// of a window; on recovery the requests sent in fallback within the last window are written as a closed block.
/// </para>
/// </summary>
internal sealed partial class SharedRollingWindowRateLimiter : RateLimiter
{
    private readonly RollingWindowRateLimiter _local;
    private readonly SharedWindowLedger _ledger;
    private readonly SemaphoreSlim _tableGate = new(1, 1);
    private readonly Lock _blocksGate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _limit;
    private readonly int _maxBlock;
    private readonly int _instances;
    private readonly TimeSpan _window;
    private readonly TimeSpan _padding;
    private readonly long _blockHoldTicks;
    private readonly TimeSpan _hold;
    private readonly long _probeTicks;
    private readonly long _fallbackWindowTicks;
    private readonly ITimer _closeTimer;

    // Guarded by _blocksGate.
    private readonly Queue<(long At, int Count)> _recentGrants = new();
    private readonly Queue<long> _fallbackGrants = new();
    private OwnBlock? _current;
    private int _waitingForBlock;

    // Guarded by _tableGate.
    private RollingWindowRateLimiter? _fallback;
    private long _nextProbe;
    private bool _disposed;

    public SharedRollingWindowRateLimiter(SharedWindowLedger ledger, LoopOptions options, TimeProvider time, ILogger logger)
    {
        _ledger = ledger;
        _time = time;
        _logger = logger;
        _limit = options.RequestsPerMinute;
        _maxBlock = Math.Min(options.SharedRateLimitMaxBlock, options.RequestsPerMinute);
        _instances = options.SharedRateLimitExpectedInstances;
        _window = options.RateLimitWindow;
        _padding = options.RateLimitWindowPadding;
        _local = new RollingWindowRateLimiter(_limit, _window, _padding, time);
        _hold = options.SharedRateLimitBlockHold;
        _blockHoldTicks = ToTicks(_hold);
        _probeTicks = ToTicks(options.RateLimitWindow / 6);
        _fallbackWindowTicks = ToTicks(options.RateLimitWindow + options.RateLimitWindowPadding);
        _closeTimer = time.CreateTimer(static state => ((SharedRollingWindowRateLimiter)state!).OnCloseTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_blocksGate)
            {
                // Blocks still to close in the table must not be forgotten with this instance.
                if (_ledger.HasPendingCloses || _current is { } c && !c.Closed)
                {
                    return null;
                }
            }

            return _local.IdleDuration;
        }
    }

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        // Without waiting there is no storage round trip: only a permit left in the current block will do.
        var local = _local.AttemptAcquire(permitCount);
        if (!local.IsAcquired || permitCount == 0)
        {
            return local;
        }

        if (_fallback is null && TryTakeFromBlock(permitCount) is { } block)
        {
            return new CombinedLease(local, block);
        }

        local.Dispose();
        return new FailedLease(null);
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var local = await _local.AcquireAsync(permitCount, cancellationToken);
        if (!local.IsAcquired || permitCount == 0)
        {
            return local;
        }

        try
        {
            return new CombinedLease(local, await AcquireSharedAsync(permitCount, cancellationToken));
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _disposed = true;
            _closeTimer.Dispose();
            _local.Dispose();
            _fallback?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<RateLimitLease> AcquireSharedAsync(int permitCount, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _fallback) is null && TryTakeFromBlock(permitCount) is { } fast)
        {
            return fast;
        }

        Interlocked.Increment(ref _waitingForBlock);
        try
        {
            await _tableGate.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waitingForBlock);
        }

        RollingWindowRateLimiter fallback;
        try
        {
            while (true)
            {
                if (_fallback is null)
                {
                    if (TryTakeFromBlock(permitCount) is { } lease)
                    {
                        return lease;
                    }

                    try
                    {
                        var claim = await _ledger.ClaimAsync(DesiredBlock(permitCount), cancellationToken);
                        StartBlock(claim);
                        continue;
                    }
                    catch (Exception ex) when (IsOutage(ex, cancellationToken))
                    {
                        EnterFallback(ex);
                    }
                }
                else if (_time.GetTimestamp() >= _nextProbe)
                {
                    var sent = FallbackSentWithinWindow(peek: true);
                    try
                    {
                        await _ledger.RecordAsync(sent, cancellationToken);
                        FallbackSentWithinWindow(peek: false);
                        Volatile.Write(ref _fallback, null);
                        LogRecovered(_logger, _ledger.KeyHashPrefix, sent);
                        continue;
                    }
                    catch (Exception ex) when (IsOutage(ex, cancellationToken))
                    {
                        _nextProbe = _time.GetTimestamp() + _probeTicks;
                    }
                }

                fallback = _fallback!;
                break;
            }
        }
        finally
        {
            _tableGate.Release();
        }

        // Outside the gate: the fallback limiter queues its own waiters in order.
        var weighted = await fallback.AcquireAsync(permitCount * _instances, cancellationToken);
        if (weighted.IsAcquired)
        {
            lock (_blocksGate)
            {
                for (var i = 0; i < permitCount; i++)
                {
                    _fallbackGrants.Enqueue(_time.GetTimestamp());
                }
            }
        }

        return weighted;
    }

    private static bool IsOutage(Exception ex, CancellationToken cancellationToken)
        => ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private BlockLease? TryTakeFromBlock(int permitCount)
    {
        lock (_blocksGate)
        {
            var now = _time.GetTimestamp();
            if (_current is not { } block || block.Remaining < permitCount || now > block.ExpiresTicks)
            {
                return null;
            }

            block.Remaining -= permitCount;
            block.Granted += permitCount;
            _recentGrants.Enqueue((now, permitCount));
            if (block.Remaining == 0)
            {
                // Used up before its hold ended: it can close as soon as its responses are in, not at the hold's end.
                block.Retired = true;
            }

            return new BlockLease(this, block, permitCount);
        }
    }

    private void StartBlock(SharedWindowLedger.Claim claim)
    {
        lock (_blocksGate)
        {
            if (_current is { } previous)
            {
                RetireUnderLock(previous);
            }

            _current = new OwnBlock(claim.Start, claim.StartTicks + _blockHoldTicks, claim.Count);
        }

        // Closes the block when its hold ends if it is still the current one then.
        _closeTimer.Change(TimeSpan.FromSeconds(_blockHoldTicks / (double)_time.TimestampFrequency) + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    // Under _blocksGate. No more grants come from this block; close it once its last response is in.
    private bool RetireUnderLock(OwnBlock block)
    {
        block.Retired = true;
        return CloseIfDoneUnderLock(block);
    }

    private bool CloseIfDoneUnderLock(OwnBlock block)
    {
        if (!block.Retired || block.Released != block.Granted || block.Closed)
        {
            return false;
        }

        block.Closed = true;
        _ledger.AddClose(new SharedWindowLedger.BlockClose(block.Start, block.Granted, block.LastRelease ?? block.Start));
        return true;
    }

    private void OnLeaseReleased(OwnBlock block, int permitCount)
    {
        bool closed;
        lock (_blocksGate)
        {
            block.Released += permitCount;
            block.LastRelease = _time.GetUtcNow();
            closed = CloseIfDoneUnderLock(block);
        }

        if (closed)
        {
            _ = FlushClosesAsync();
        }
    }

    private void OnCloseTimer()
    {
        var closed = false;
        lock (_blocksGate)
        {
            if (_current is { } block)
            {
                var now = _time.GetTimestamp();
                if (now > block.ExpiresTicks)
                {
                    closed = RetireUnderLock(block);
                    _current = null;
                }
                else
                {
                    // Fired early: look again when the hold is really over.
                    _closeTimer.Change(TimeSpan.FromSeconds((block.ExpiresTicks - now) / (double)_time.TimestampFrequency) + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (closed)
        {
            _ = FlushClosesAsync();
        }
    }

    // Writes closes no claim has carried yet. A failure leaves them pending for the next write; meanwhile the others
    // count those blocks as open, which is safe, only slower.
    private async Task FlushClosesAsync()
    {
        if (_disposed || Volatile.Read(ref _fallback) is not null)
        {
            return;
        }

        try
        {
            await _ledger.RecordAsync(0, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Deliberately swallowed: the closes stay queued in the ledger, and a real outage shows at the next claim.
        }
    }

    // What the last hold's worth of demand suggests, or the callers queued right now if more: a block larger than
    // what this instance can use before the hold ends would only park permits the others could use (until its close).
    private int DesiredBlock(int permitCount)
    {
        lock (_blocksGate)
        {
            var now = _time.GetTimestamp();
            while (_recentGrants.TryPeek(out var g) && g.At < now - _blockHoldTicks)
            {
                _recentGrants.Dequeue();
            }

            var recent = _recentGrants.Sum(g => g.Count);
            var queued = Volatile.Read(ref _waitingForBlock) + permitCount;
            return Math.Clamp(Math.Max(recent, queued), permitCount, _maxBlock);
        }
    }

    private void EnterFallback(Exception ex)
    {
        var fallback = new RollingWindowRateLimiter(_limit, _window, _padding, _time);
        var nowTicks = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow();
        // Only blocks still counted now: room that has come free since the last read (stale on an instance that was
        // idle) may have been claimed again by the others, so it goes with the unknown below.
        var seen = _ledger.LastSeen.Where(b => _ledger.LiveUntil(b) > nowUtc).ToList();
        foreach (var block in seen)
        {
            Occupy(fallback, block.Count, _ledger.LiveUntil(block) - nowUtc, nowTicks);
        }

        // Others may have claimed what was left just before the outage; counted as closing when its hold ends.
        Occupy(fallback, _limit - seen.Sum(b => b.Count), _ledger.LiveUntil(new SharedWindowLedger.Block(nowUtc, 0, nowUtc + _hold, "")) - nowUtc, nowTicks);

        lock (_blocksGate)
        {
            if (_current is { } block)
            {
                block.Remaining = 0;
                RetireUnderLock(block);
                _current = null;
            }
        }

        _nextProbe = nowTicks + _probeTicks;
        Volatile.Write(ref _fallback, fallback);
        LogFallback(_logger, ex, _ledger.KeyHashPrefix, ex.GetType().Name, _instances, Math.Max(1, _limit / _instances), _window.TotalSeconds);
    }

    private void Occupy(RollingWindowRateLimiter fallback, int count, TimeSpan freeIn, long nowTicks)
    {
        if (count > 0 && freeIn > TimeSpan.Zero)
        {
            fallback.Occupy(count, nowTicks + ToTicks(freeIn));
        }
    }

    private int FallbackSentWithinWindow(bool peek)
    {
        lock (_blocksGate)
        {
            var now = _time.GetTimestamp();
            while (_fallbackGrants.TryPeek(out var at) && at <= now - _fallbackWindowTicks)
            {
                _fallbackGrants.Dequeue();
            }

            var count = _fallbackGrants.Count;
            if (!peek)
            {
                _fallbackGrants.Clear();
            }

            return Math.Min(count, _limit);
        }
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Loop shared rate limit for key {KeyHash}: the table is unavailable ({Error}); this instance falls back to a 1/{Instances} share (about {Share} per {WindowSeconds} s)")]
    private static partial void LogFallback(ILogger logger, Exception exception, string keyHash, string error, int instances, int share, double windowSeconds);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Information, Message = "Loop shared rate limit for key {KeyHash}: the table is back; {Sent} requests sent in fallback within the last window recorded")]
    private static partial void LogRecovered(ILogger logger, string keyHash, int sent);
}
