using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// Limiter for Loop: at most <see cref="LoopOptions.RequestsPerMinute"/> requests per
/// <see cref="LoopOptions.RateLimitWindow"/> per API key, across every caller and every HttpClient instance of the
/// process, and with <see cref="LoopOptions.SharedRateLimit"/> across every process sharing the table.
/// Register as a singleton; callers wait for a permit rather than fail. Dispose each lease when the response has
/// arrived: the permit counts against the window from then (see <see cref="RollingWindowRateLimiter"/>).
/// </summary>
public sealed class LoopRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    /// <summary>A per-process limiter (no shared table).</summary>
    public LoopRateLimiter(IOptions<LoopOptions> options, TimeProvider timeProvider)
        : this(options, timeProvider, null, null)
    {
    }

    /// <summary>
    /// A limiter that, when <see cref="LoopOptions.SharedRateLimit"/> is on, claims permits in blocks from
    /// <paramref name="tableStore"/> (required then) so that every instance together stays within the limit.
    /// </summary>
    public LoopRateLimiter(IOptions<LoopOptions> options, TimeProvider timeProvider, ITableStore? tableStore, ILogger<LoopRateLimiter>? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var o = options.Value;
        ArgumentOutOfRangeException.ThrowIfLessThan(o.RequestsPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.RateLimitWindow, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.RateLimitWindowPadding, TimeSpan.Zero);
        if (o.SharedRateLimit)
        {
            ArgumentNullException.ThrowIfNull(tableStore);
            ArgumentOutOfRangeException.ThrowIfLessThan(o.SharedRateLimitMaxBlock, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(o.SharedRateLimitExpectedInstances, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(o.SharedRateLimitExpectedInstances, o.RequestsPerMinute);
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.SharedRateLimitBlockHold, TimeSpan.Zero);
            var log = (ILogger?)logger ?? NullLogger.Instance;
            _limiter = PartitionedRateLimiter.Create<string, string>(
                partitionKey => RateLimitPartition.Get(partitionKey, key => new SharedRollingWindowRateLimiter(
                    new SharedWindowLedger(tableStore, o.SharedRateLimitTable, key, o, timeProvider), o, timeProvider, log)));
        }
        else
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(
                partitionKey => RateLimitPartition.Get(partitionKey, _ => new RollingWindowRateLimiter(o.RequestsPerMinute, o.RateLimitWindow, o.RateLimitWindowPadding, timeProvider)));
        }
    }

    /// <summary>
    /// Waits until a request with <paramref name="apiKey"/> may be sent. Dispose the lease once the response has
    /// arrived (or the attempt was abandoned); until then the permit is held.
    /// </summary>
    public ValueTask<RateLimitLease> AcquireAsync(string apiKey, CancellationToken cancellationToken)
        => _limiter.AcquireAsync(PartitionKey(apiKey), 1, cancellationToken);

    public void Dispose() => _limiter.Dispose();

    // The partition is keyed by a hash so the key itself never sits in the limiter's diagnostics (nor in the table).
    private static string PartitionKey(string apiKey)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey ?? string.Empty)));
}

/// <summary>
/// An exact rolling-window limiter with release-time accounting: at most <c>permitLimit</c> permits are out at once,
/// and a returned permit may be handed out again only <c>window + padding</c> after its lease was disposed.
/// <para>
/// Why from release and not from grant: counting from the grant keeps grants exact, but the server counts arrivals,
/// and a request granted at t arrives at t + d with d varying with scheduling, so one server window could see grants
/// from slightly more than one client window (8–12 % over the limit was measured under load). A request always
/// arrives before its response does, so if every permit counts from the moment its response came back, any
/// <c>permitLimit + 1</c> arrivals span at least a window, whatever the delays: for the last one granted (at g, arriving
/// at or after g) to share a window with the other <c>permitLimit</c>, each of those would have to have arrived, and so
/// been released, less than a window before g, and then no slot would have been free at g. The price is the response
/// time on top of the window for each slot (milliseconds against a 60 s window); the padding covers what causality
/// does not (see <see cref="LoopOptions.RateLimitWindowPadding"/>).
/// </para>
/// Waiters are served in arrival order. A lease that is never disposed keeps its slot for good, which errs on the
/// side of fewer requests; <see cref="LoopRateLimitHandler"/> always disposes.
/// </summary>
internal sealed class RollingWindowRateLimiter : RateLimiter
{
    private readonly int _permitLimit;
    private readonly long _holdTicks;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // The time (TimeProvider ticks) from which each idle slot may be used again; slots on leases are not in here.
    private readonly PriorityQueue<long, long> _free = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly ITimer _timer;
    private long _timerDue = long.MaxValue;
    private long _latestFree = long.MinValue;
    private int _held;
    private long _successful;
    private long _failed;
    private bool _disposed;

    public RollingWindowRateLimiter(int permitLimit, TimeSpan window, TimeSpan padding, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        _permitLimit = permitLimit;
        _time = time;
        _holdTicks = Ticks(window + padding, time);
        for (var i = 0; i < permitLimit; i++)
        {
            _free.Enqueue(long.MinValue, long.MinValue);
        }

        _timer = time.CreateTimer(static state => ((RollingWindowRateLimiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                // Idle only once every slot is back and out of its window; before that, dropping this instance
                // (the partitioned limiter does for idle ones) would forget the requests still being counted.
                var now = _time.GetTimestamp();
                if (_waiters.Count > 0 || _held > 0 || now < _latestFree)
                {
                    return null;
                }

                return _latestFree == long.MinValue ? TimeSpan.MaxValue : _time.GetElapsedTime(_latestFree, now);
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _free.UnorderedItems.Count(item => item.Priority <= now),
                CurrentQueuedCount = _waiters.Sum(w => w.PermitCount),
                TotalSuccessfulLeases = Interlocked.Read(ref _successful),
                TotalFailedLeases = Interlocked.Read(ref _failed),
            };
        }
    }

    /// <summary>
    /// Marks <paramref name="count"/> idle slots as used until <paramref name="freeAt"/> (TimeProvider ticks): requests
    /// this limiter did not send but must still leave room for (the shared limiter's fallback seeds them).
    /// </summary>
    internal void Occupy(int count, long freeAt)
    {
        lock (_gate)
        {
            var n = Math.Min(count, _free.Count);
            var taken = new long[n];
            for (var i = 0; i < n; i++)
            {
                taken[i] = _free.Dequeue();
            }

            foreach (var old in taken)
            {
                var at = Math.Max(old, freeAt);
                _free.Enqueue(at, at);
                _latestFree = Math.Max(_latestFree, at);
            }
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Validate(permitCount);
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_waiters.Count == 0 && TryTake(permitCount, now))
            {
                Interlocked.Increment(ref _successful);
                return NewLease(permitCount);
            }

            Interlocked.Increment(ref _failed);
            var due = NthFree(permitCount);
            return new FailedLease(due == long.MaxValue ? null : _time.GetElapsedTime(now, Math.Max(now, due)));
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Validate(permitCount);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_waiters.Count == 0 && TryTake(permitCount, now))
            {
                Interlocked.Increment(ref _successful);
                return ValueTask.FromResult<RateLimitLease>(NewLease(permitCount));
            }

            waiter = new Waiter(permitCount);
            node = _waiters.AddLast(waiter);
            Schedule(now);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() => Cancel(node, cancellationToken));
        }

        return new ValueTask<RateLimitLease>(waiter.Completion.Task);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<Waiter> orphans;
            lock (_gate)
            {
                _disposed = true;
                orphans = [.. _waiters];
                _waiters.Clear();
            }

            _timer.Dispose();
            foreach (var waiter in orphans)
            {
                waiter.Registration.Unregister();
                waiter.Completion.TrySetResult(new FailedLease(null));
            }
        }

        base.Dispose(disposing);
    }

    private static long Ticks(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private void Validate(int permitCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _permitLimit);
    }

    private SlotLease NewLease(int permitCount) => permitCount == 0 ? SlotLease.Empty : new SlotLease(this, permitCount);

    // Under _gate. Takes permitCount slots if that many are free now.
    private bool TryTake(int permitCount, long now)
    {
        if (NthFree(permitCount) > now)
        {
            return false;
        }

        for (var i = 0; i < permitCount; i++)
        {
            _free.Dequeue();
        }

        _held += permitCount;
        return true;
    }

    // Under _gate. When the permitCount-th idle slot becomes free; MaxValue when fewer are idle (waiting on releases).
    private long NthFree(int permitCount)
    {
        if (permitCount == 0)
        {
            return long.MinValue;
        }

        if (_free.Count < permitCount)
        {
            return long.MaxValue;
        }

        if (permitCount == 1)
        {
            return _free.Peek();
        }

        var taken = new long[permitCount];
        for (var i = 0; i < permitCount; i++)
        {
            taken[i] = _free.Dequeue();
        }

        foreach (var at in taken)
        {
            _free.Enqueue(at, at);
        }

        return taken[^1];
    }

    private void Release(int permitCount)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var freeAt = now + _holdTicks;
            for (var i = 0; i < permitCount; i++)
            {
                _free.Enqueue(freeAt, freeAt);
            }

            _latestFree = Math.Max(_latestFree, freeAt);
            _held -= permitCount;
            Drain(now);
            Schedule(now);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _timerDue = long.MaxValue;
            var now = _time.GetTimestamp();
            Drain(now);
            Schedule(now);
        }
    }

    private void Cancel(LinkedListNode<Waiter> node, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (node.List is null)
            {
                return;
            }

            _waiters.Remove(node);
            Interlocked.Increment(ref _failed);
            node.Value.Completion.TrySetCanceled(cancellationToken);

            // The head may have changed to a waiter that fits now.
            var now = _time.GetTimestamp();
            Drain(now);
            Schedule(now);
        }
    }

    // Under _gate. Serves waiters in order while the head fits.
    private void Drain(long now)
    {
        while (_waiters.First is { } head && TryTake(head.Value.PermitCount, now))
        {
            _waiters.RemoveFirst();
            head.Value.Registration.Unregister();
            Interlocked.Increment(ref _successful);
            head.Value.Completion.TrySetResult(NewLease(head.Value.PermitCount));
        }
    }

    // Under _gate. Wakes up when the head waiter's slots come out of their window; releases wake it otherwise.
    private void Schedule(long now)
    {
        var due = _waiters.First is { } head ? NthFree(head.Value.PermitCount) : long.MaxValue;
        if (due == _timerDue)
        {
            return;
        }

        _timerDue = due;
        if (due == long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // Rounded up so the timer never fires a tick early and spins.
        var ticks = Math.Max(0, due - now);
        var delay = TimeSpan.FromTicks((long)Math.Ceiling(ticks * (double)TimeSpan.TicksPerSecond / _time.TimestampFrequency));
        _timer.Change(delay < TimeSpan.FromMilliseconds(1) && ticks > 0 ? TimeSpan.FromMilliseconds(1) : delay, Timeout.InfiniteTimeSpan);
    }

    private sealed class Waiter(int permitCount)
    {
        public int PermitCount { get; } = permitCount;

        public TaskCompletionSource<RateLimitLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }

    private sealed class SlotLease(RollingWindowRateLimiter? owner, int permitCount) : RateLimitLease
    {
        public static readonly SlotLease Empty = new(null, 0);

        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && owner is not null && Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(permitCount);
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A lease that was not granted, with the wait that would have made it so when known.</summary>
internal sealed class FailedLease(TimeSpan? retryAfter) : RateLimitLease
{
    public override bool IsAcquired => false;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (retryAfter is { } value && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = value;
            return true;
        }

        metadata = null;
        return false;
    }
}
