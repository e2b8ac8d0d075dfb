using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// Process-wide limiter for Loop: at most <see cref="LoopOptions.RequestsPerMinute"/> requests per
/// <see cref="LoopOptions.RateLimitWindow"/> per API key, across every caller and every HttpClient instance.
/// Register as a singleton; callers wait for a permit rather than fail.
/// </summary>
public sealed class LoopRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public LoopRateLimiter(IOptions<LoopOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var permits = options.Value.RequestsPerMinute;
        var window = options.Value.RateLimitWindow;
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _limiter = PartitionedRateLimiter.Create<string, string>(
            partitionKey => RateLimitPartition.Get(partitionKey, _ => new RollingWindowRateLimiter(permits, window, timeProvider)));
    }

    /// <summary>Waits until a request with <paramref name="apiKey"/> may be sent.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(string apiKey, CancellationToken cancellationToken)
        => _limiter.AcquireAsync(PartitionKey(apiKey), 1, cancellationToken);

    public void Dispose() => _limiter.Dispose();

    // The partition is keyed by a hash so the key itself never sits in the limiter's diagnostics.
    private static string PartitionKey(string apiKey)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey ?? string.Empty)));
}

/// <summary>
/// An exact rolling-window limiter: no span of length <c>window</c> ever holds more than <c>permitLimit</c> grants.
/// Sliding-window and token-bucket limiters approximate this and can let up to twice the limit through in a rolling
/// minute, which is what earns a 429. Waiters are served in arrival order: each reserves the earliest time it may go
/// (the grant <c>permitLimit</c> places back plus one window) and sleeps until then. A waiter cancelled after
/// reserving leaves its slot used, which only ever errs on the side of fewer requests.
/// </summary>
internal sealed class RollingWindowRateLimiter : RateLimiter
{
    private readonly int _permitLimit;
    private readonly long _windowTicks;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // Timestamps (TimeProvider ticks) of the last _permitLimit grants, oldest first; some may lie in the future.
    private readonly long[] _ring;
    private int _head;
    private int _count;
    private long _lastGrant;
    private int _waiting;
    private long _successful;
    private long _failed;
    private bool _disposed;

    public RollingWindowRateLimiter(int permitLimit, TimeSpan window, TimeProvider time)
    {
        _permitLimit = permitLimit;
        _time = time;
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _ring = new long[permitLimit];
        _lastGrant = time.GetTimestamp();
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                // Reporting idle while grants are still inside the window would let the partitioned limiter
                // drop this instance and forget them.
                var now = _time.GetTimestamp();
                var freeFrom = _lastGrant + _windowTicks;
                if (_waiting > 0 || now < freeFrom)
                {
                    return null;
                }

                return _time.GetElapsedTime(freeFrom, now);
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var inWindow = 0;
            for (var i = 0; i < _count; i++)
            {
                if (At(i) > now - _windowTicks)
                {
                    inWindow++;
                }
            }

            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = Math.Max(0, _permitLimit - inWindow),
                CurrentQueuedCount = _waiting,
                TotalSuccessfulLeases = Interlocked.Read(ref _successful),
                TotalFailedLeases = Interlocked.Read(ref _failed),
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Validate(permitCount);
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var at = EarliestGrant(permitCount, now);
            if (at > now)
            {
                Interlocked.Increment(ref _failed);
                return new Lease(false, _time.GetElapsedTime(now, at));
            }

            if (permitCount > 0)
            {
                Record(permitCount, now);
                Interlocked.Increment(ref _successful);
            }

            return Lease.Granted;
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Validate(permitCount);
        cancellationToken.ThrowIfCancellationRequested();
        long now;
        long at;
        lock (_gate)
        {
            now = _time.GetTimestamp();
            at = EarliestGrant(permitCount, now);
            if (permitCount > 0)
            {
                Record(permitCount, at);
            }

            if (at > now)
            {
                _waiting++;
            }
        }

        if (at > now)
        {
            try
            {
                await Task.Delay(_time.GetElapsedTime(now, at), _time, cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _waiting--;
                }
            }
        }

        Interlocked.Increment(ref _successful);
        return Lease.Granted;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }

    private void Validate(int permitCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _permitLimit);
    }

    // Earliest time permitCount more grants keep every run of (limit + 1) consecutive grants at least a window apart,
    // never before the last grant so that waiters stay in order.
    private long EarliestGrant(int permitCount, long now)
    {
        var at = Math.Max(now, _count > 0 ? _lastGrant : now);
        var bindingIndex = _count + permitCount - 1 - _permitLimit;
        if (permitCount > 0 && bindingIndex >= 0)
        {
            at = Math.Max(at, At(bindingIndex) + _windowTicks);
        }

        return at;
    }

    private long At(int index) => _ring[(_head + index) % _permitLimit];

    private void Record(int permitCount, long at)
    {
        for (var i = 0; i < permitCount; i++)
        {
            if (_count == _permitLimit)
            {
                _ring[_head] = at;
                _head = (_head + 1) % _permitLimit;
            }
            else
            {
                _ring[(_head + _count) % _permitLimit] = at;
                _count++;
            }
        }

        _lastGrant = at;
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        public override bool IsAcquired => acquired;

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
}
