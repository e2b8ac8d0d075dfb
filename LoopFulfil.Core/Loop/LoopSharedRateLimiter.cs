using System.Globalization;
using System.Text;
using System.Threading.RateLimiting;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// The cross-process limiter for one API key (<see cref="LoopOptions.SharedRateLimit"/>). Every request needs two
/// permits: one from this process's <see cref="RollingWindowRateLimiter"/> (release-time accounting, so the
/// process on its own is exact whatever its delivery delays) and one from a block claimed in the table through
/// <see cref="SharedWindowLedger"/>. Blocks are claimed for several permits at once, sized to recent demand, so the
/// table sees a write per block rather than per request; a block may be dispensed for
/// <see cref="LoopOptions.SharedRateLimitBlockHold"/> after its claim, and every instance counts it for
/// <c>window + hold + padding</c> from its claim time. Requests from a block therefore arrive inside that span as long
/// as grant-to-arrival delay plus clock skew stay under the padding.
/// <para>
/// When the table cannot be reached the instance does not stop and does not assume the whole limit: it falls back to a
/// local limiter in which each of its requests weighs <see cref="LoopOptions.SharedRateLimitExpectedInstances"/> permits,
/// seeded with the blocks it last saw in the table and with what was still free then (the others may have claimed it
/// since). So while that state ages out it uses its 1/N share of what the blocks free, then 1/N of the limit; N
/// instances in the same outage together stay within it. An instance whose table calls fail while the others' succeed
/// is not covered (they do not see its fallback requests until it recovers); Loop's 429 and the retry pipeline are the
/// backstop there. The table is tried
/// again every sixth of a window; on recovery the requests sent in fallback within the last window are written as a
/// block so that the other instances count them.
/// </para>
/// </summary>
internal sealed partial class SharedRollingWindowRateLimiter : RateLimiter
{
    private readonly RollingWindowRateLimiter _local;
    private readonly SharedWindowLedger _ledger;
    private readonly SemaphoreSlim _blockGate = new(1, 1);
    private readonly Lock _fallbackGate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _limit;
    private readonly int _maxBlock;
    private readonly int _instances;
    private readonly TimeSpan _window;
    private readonly TimeSpan _padding;
    private readonly long _blockHoldTicks;
    private readonly long _probeTicks;
    private readonly long _fallbackWindowTicks;

    // Guarded by _blockGate.
    private readonly Queue<(long At, int Count)> _recentGrants = new();
    private long _blockExpires = long.MinValue;
    private int _blockRemaining;
    private RollingWindowRateLimiter? _fallback;
    private long _nextProbe;

    // Guarded by _fallbackGate: when this instance sent requests without the table.
    private readonly Queue<long> _fallbackGrants = new();
    private int _waitingForBlock;

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
        _blockHoldTicks = ToTicks(options.SharedRateLimitBlockHold);
        _probeTicks = ToTicks(options.RateLimitWindow / 6);
        _fallbackWindowTicks = ToTicks(options.RateLimitWindow + options.RateLimitWindowPadding);
    }

    public override TimeSpan? IdleDuration => _local.IdleDuration;

    /// <summary>True while the table is unreachable and the conservative local share applies.</summary>
    internal bool InFallback => Volatile.Read(ref _fallback) is not null;

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        // Without waiting there is no storage round trip: only a permit left in the current block will do.
        var local = _local.AttemptAcquire(permitCount);
        if (!local.IsAcquired || permitCount == 0)
        {
            return local;
        }

        if (_blockGate.Wait(0))
        {
            try
            {
                var now = _time.GetTimestamp();
                if (_fallback is null && _blockRemaining >= permitCount && now <= _blockExpires)
                {
                    _blockRemaining -= permitCount;
                    NoteGrant(now, permitCount);
                    return local;
                }
            }
            finally
            {
                _blockGate.Release();
            }
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
            var shared = await AcquireSharedAsync(permitCount, cancellationToken);
            return shared is null ? local : new CombinedLease(local, shared);
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
            _local.Dispose();
            _fallback?.Dispose();
            _blockGate.Dispose();
        }

        base.Dispose(disposing);
    }

    // Null when a block permit was taken; a fallback lease otherwise.
    private async Task<RateLimitLease?> AcquireSharedAsync(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waitingForBlock);
        try
        {
            await _blockGate.WaitAsync(cancellationToken);
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
                var now = _time.GetTimestamp();
                if (_fallback is null)
                {
                    if (_blockRemaining >= permitCount && now <= _blockExpires)
                    {
                        _blockRemaining -= permitCount;
                        NoteGrant(now, permitCount);
                        return null;
                    }

                    try
                    {
                        var claim = await _ledger.ClaimAsync(DesiredBlock(now, permitCount), cancellationToken);
                        _blockRemaining = claim.Count;
                        _blockExpires = claim.StartTimestamp + _blockHoldTicks;
                        continue;
                    }
                    catch (Exception ex) when (IsOutage(ex, cancellationToken))
                    {
                        EnterFallback(ex);
                    }
                }
                else if (now >= _nextProbe)
                {
                    try
                    {
                        var sent = FallbackSentWithinWindow(now);
                        await _ledger.RecordAsync(sent, cancellationToken);
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
            _blockGate.Release();
        }

        // Outside the gate: the fallback limiter queues its own waiters in order.
        var lease = await fallback.AcquireAsync(permitCount * _instances, cancellationToken);
        if (lease.IsAcquired)
        {
            lock (_fallbackGate)
            {
                for (var i = 0; i < permitCount; i++)
                {
                    _fallbackGrants.Enqueue(_time.GetTimestamp());
                }
            }
        }

        return lease;
    }

    private static bool IsOutage(Exception ex, CancellationToken cancellationToken)
        => ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private void NoteGrant(long now, int permitCount) => _recentGrants.Enqueue((now, permitCount));

    // What the last hold's worth of demand suggests, or the callers queued right now if more: a block larger than
    // what this instance can use before the hold ends would only park permits the others could have used.
    private int DesiredBlock(long now, int permitCount)
    {
        while (_recentGrants.TryPeek(out var g) && g.At < now - _blockHoldTicks)
        {
            _recentGrants.Dequeue();
        }

        var recent = _recentGrants.Sum(g => g.Count);
        var queued = Volatile.Read(ref _waitingForBlock) + permitCount;
        return Math.Clamp(Math.Max(recent, queued), permitCount, _maxBlock);
    }

    private void EnterFallback(Exception ex)
    {
        var fallback = new RollingWindowRateLimiter(_limit, _window, _padding, _time);
        var nowTicks = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow();
        var seen = _ledger.LastSeen;
        foreach (var block in seen)
        {
            Occupy(fallback, block.Count, block.Start + _ledger.Span - nowUtc, nowTicks);
        }

        // What was still free when this instance last read the table may have been claimed by the others right after;
        // counting it as claimed then keeps the shares within what is really left, at the cost of a slower start when
        // that read is recent.
        if (_ledger.LastSeenAt is { } readAt)
        {
            Occupy(fallback, _limit - seen.Sum(b => b.Count), readAt + _ledger.Span - nowUtc, nowTicks);
        }

        _blockRemaining = 0;
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

    private int FallbackSentWithinWindow(long now)
    {
        lock (_fallbackGate)
        {
            while (_fallbackGrants.TryPeek(out var at) && at <= now - _fallbackWindowTicks)
            {
                _fallbackGrants.Dequeue();
            }

            var count = _fallbackGrants.Count;
            _fallbackGrants.Clear();
            return Math.Min(count, _limit);
        }
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Loop shared rate limit for key {KeyHash}: the table is unavailable ({Error}); this instance falls back to a 1/{Instances} share (about {Share} per {WindowSeconds} s)")]
    private static partial void LogFallback(ILogger logger, Exception exception, string keyHash, string error, int instances, int share, double windowSeconds);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Information, Message = "Loop shared rate limit for key {KeyHash}: the table is back; {Sent} requests sent in fallback within the last window recorded")]
    private static partial void LogRecovered(ILogger logger, string keyHash, int sent);

    private sealed class CombinedLease(RateLimitLease first, RateLimitLease second) : RateLimitLease
    {
        public override bool IsAcquired => first.IsAcquired && second.IsAcquired;

        public override IEnumerable<string> MetadataNames => first.MetadataNames.Concat(second.MetadataNames);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
            => first.TryGetMetadata(metadataName, out metadata) || second.TryGetMetadata(metadataName, out metadata);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                first.Dispose();
                second.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// The table side of the shared limiter: one entity per API key hash (partition <see cref="Partition"/>, row key the
/// hash) whose <c>Blocks</c> property lists the blocks claimed within the last <see cref="Span"/>, as
/// <c>utcTicks:count</c> pairs. A claim reads the entity, counts the live blocks, appends its own and writes back
/// with the ETag read; a 412 means another instance claimed in between, so it reads again. Block times are each
/// instance's UTC clock; the padding in <see cref="Span"/> absorbs the skew between them.
/// </summary>
internal sealed class SharedWindowLedger
{
    /// <summary>Partition key of every limiter entity.</summary>
    public const string Partition = "loop-rate-limit";

    private const string BlocksProperty = "Blocks";
    private static readonly TimeSpan MinWait = TimeSpan.FromMilliseconds(1);

    private readonly ITableStore _store;
    private readonly string _table;
    private readonly string _rowKey;
    private readonly int _limit;
    private readonly TimeProvider _time;
    private volatile bool _tableReady;

    public SharedWindowLedger(ITableStore store, string table, string keyHash, LoopOptions options, TimeProvider time)
    {
        _store = store;
        _table = table;
        _rowKey = keyHash;
        _limit = options.RequestsPerMinute;
        _time = time;
        Span = options.RateLimitWindow + options.SharedRateLimitBlockHold + options.RateLimitWindowPadding;
    }

    /// <summary>How long a block counts from its claim: a window, plus the hold during which it may be dispensed, plus padding.</summary>
    public TimeSpan Span { get; }

    /// <summary>For logs: enough of the key hash to tell keys apart, never the key.</summary>
    public string KeyHashPrefix => _rowKey[..Math.Min(8, _rowKey.Length)];

    /// <summary>The live blocks as of the last read or write (used to seed the fallback).</summary>
    public IReadOnlyList<Block> LastSeen { get; private set; } = [];

    /// <summary>When <see cref="LastSeen"/> was read (this instance's UTC clock); null before the first read.</summary>
    public DateTimeOffset? LastSeenAt { get; private set; }

    /// <summary>
    /// Claims up to <paramref name="desired"/> permits (at least one), waiting while the blocks in the table already
    /// fill the limit. The claim counts from <see cref="Claim.StartTimestamp"/>, taken before the read.
    /// </summary>
    public async Task<Claim> ClaimAsync(int desired, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        while (true)
        {
            var startTicks = _time.GetTimestamp();
            var now = _time.GetUtcNow();
            var entity = await _store.GetAsync(_table, Partition, _rowKey, cancellationToken);
            var blocks = Live(entity, now);
            (LastSeen, LastSeenAt) = (blocks, now);
            var free = _limit - blocks.Sum(b => b.Count);
            if (free <= 0)
            {
                var wait = blocks.Min(b => b.Start) + Span - now;
                await Task.Delay(wait > MinWait ? wait : MinWait, _time, cancellationToken);
                continue;
            }

            var claimed = new Block(now, Math.Min(desired, free));
            List<Block> written = [.. blocks, claimed];
            if (await TryWriteAsync(entity, written, cancellationToken))
            {
                LastSeen = written;
                return new Claim(startTicks, claimed.Count);
            }
        }
    }

    /// <summary>
    /// Appends a block of <paramref name="count"/> requests already sent (in fallback) whatever the room left, so the
    /// other instances count them; with zero it only checks that the table answers.
    /// </summary>
    public async Task RecordAsync(int count, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        while (true)
        {
            var now = _time.GetUtcNow();
            var entity = await _store.GetAsync(_table, Partition, _rowKey, cancellationToken);
            var blocks = Live(entity, now);
            (LastSeen, LastSeenAt) = (blocks, now);
            if (count == 0)
            {
                return;
            }

            List<Block> written = [.. blocks, new Block(now, count)];
            if (await TryWriteAsync(entity, written, cancellationToken))
            {
                LastSeen = written;
                return;
            }
        }
    }

    internal static string Format(IEnumerable<Block> blocks)
        => string.Join(';', blocks.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Start.UtcTicks}:{b.Count}")));

    internal static List<Block> Parse(string? text)
    {
        var blocks = new List<Block>();
        foreach (var part in (text ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0
                && long.TryParse(part.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                && ticks <= DateTimeOffset.MaxValue.UtcTicks)
            {
                blocks.Add(new Block(new DateTimeOffset(ticks, TimeSpan.Zero), count));
            }
        }

        return blocks;
    }

    private List<Block> Live(TableEntity? entity, DateTimeOffset now)
        => [.. Parse(entity?.GetString(BlocksProperty)).Where(b => b.Start > now - Span)];

    private async Task<bool> TryWriteAsync(TableEntity? read, List<Block> blocks, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Partition, _rowKey) { [BlocksProperty] = Format(blocks) };
        if (read is null)
        {
            return await _store.InsertAsync(_table, entity, cancellationToken) == InsertOutcome.Inserted;
        }

        entity.ETag = read.ETag;
        return await _store.UpdateAsync(_table, entity, UpsertMode.Replace, cancellationToken) == UpdateOutcome.Updated;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_tableReady)
        {
            await _store.CreateTableIfNotExistsAsync(_table, cancellationToken);
            _tableReady = true;
        }
    }

    /// <summary>A claimed block: when it was claimed (each instance's UTC clock) and how many permits.</summary>
    internal readonly record struct Block(DateTimeOffset Start, int Count);

    /// <summary>A block this instance claimed: its start on this process's TimeProvider clock, and its size.</summary>
    internal readonly record struct Claim(long StartTimestamp, int Count);
}
