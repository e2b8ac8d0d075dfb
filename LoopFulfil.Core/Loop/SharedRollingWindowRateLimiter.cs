using System.Globalization;
using System.Threading.RateLimiting;
using LoopFulfil.Core.Storage;
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

    private sealed class OwnBlock(DateTimeOffset start, long expiresTicks, int remaining)
    {
        public DateTimeOffset Start { get; } = start;

        public long ExpiresTicks { get; } = expiresTicks;

        public int Remaining { get; set; } = remaining;

        public int Granted { get; set; }

        public int Released { get; set; }

        public DateTimeOffset? LastRelease { get; set; }

        public bool Retired { get; set; }

        public bool Closed { get; set; }
    }

    private sealed class BlockLease(SharedRollingWindowRateLimiter owner, OwnBlock block, int permitCount) : RateLimitLease
    {
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
            if (disposing && Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.OnLeaseReleased(block, permitCount);
            }

            base.Dispose(disposing);
        }
    }

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
                // The response is in: both permits count from now.
                second.Dispose();
                first.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// The table side of the shared limiter: one entity per API key hash (partition <see cref="Partition"/>, row key the
/// hash) whose <c>Blocks</c> property lists the live blocks as <c>startTicks:count:endTicks:owner</c> (end 0 while
/// open; UTC ticks of each instance's clock). A claim reads the entity, counts the live blocks, appends its own (and
/// closes the claimant's finished ones) and writes back with the ETag read; a 412 means another instance wrote in
/// between, so it reads again.
/// </summary>
internal sealed class SharedWindowLedger
{
    /// <summary>Partition key of every limiter entity.</summary>
    public const string Partition = "loop-rate-limit";

    private const string BlocksProperty = "Blocks";

    private readonly ITableStore _store;
    private readonly string _table;
    private readonly string _rowKey;
    private readonly int _limit;
    private readonly TimeProvider _time;
    private readonly TimeSpan _countFor;
    private readonly TimeSpan _maxOpen;
    private readonly TimeSpan _poll;
    private readonly string _owner = Guid.NewGuid().ToString("N")[..12];
    private readonly Lock _closesGate = new();
    private readonly List<BlockClose> _closes = [];
    private volatile bool _tableReady;

    public SharedWindowLedger(ITableStore store, string table, string keyHash, LoopOptions options, TimeProvider time)
    {
        _store = store;
        _table = table;
        _rowKey = keyHash;
        _limit = options.RequestsPerMinute;
        _time = time;
        _countFor = options.RateLimitWindow + options.RateLimitWindowPadding;
        // The per-attempt timeout bounds how long a lease is held; a second on top for the release itself.
        _maxOpen = options.SharedRateLimitBlockHold + TimeSpan.FromSeconds(options.TimeoutSeconds + 1);
        _poll = options.SharedRateLimitBlockHold;
    }

    /// <summary>True while some finished block of this instance is not yet closed in the table.</summary>
    public bool HasPendingCloses
    {
        get
        {
            lock (_closesGate)
            {
                return _closes.Count > 0;
            }
        }
    }

    /// <summary>Queues a close of this instance's finished block; every later write carries it until one succeeds.</summary>
    public void AddClose(BlockClose close)
    {
        lock (_closesGate)
        {
            _closes.Add(close);
        }
    }

    /// <summary>For logs: enough of the key hash to tell keys apart, never the key.</summary>
    public string KeyHashPrefix => _rowKey[..Math.Min(8, _rowKey.Length)];

    /// <summary>The live blocks as of the last read or write (used to seed the fallback).</summary>
    public IReadOnlyList<Block> LastSeen { get; private set; } = [];

    /// <summary>Until when a block must be counted: a window and the padding after its close, or after the latest it could close.</summary>
    public DateTimeOffset LiveUntil(Block block) => (block.End ?? block.Start + _maxOpen) + _countFor;

    /// <summary>
    /// Claims up to <paramref name="desired"/> permits (at least one), waiting while the live blocks fill the limit.
    /// Every write also carries the pending closes of this instance's finished blocks.
    /// </summary>
    public async Task<Claim> ClaimAsync(int desired, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        while (true)
        {
            var startTicks = _time.GetTimestamp();
            var now = _time.GetUtcNow();
            var closes = PendingCloses();
            var entity = await _store.GetAsync(_table, Partition, _rowKey, cancellationToken);
            var blocks = Live(Apply(Parse(entity?.GetString(BlocksProperty)), closes), now);
            LastSeen = blocks;
            var free = _limit - blocks.Sum(b => b.Count);
            if (free <= 0)
            {
                // Our own closes may be what frees room, for us and the others: write them before waiting.
                if (closes.Count > 0)
                {
                    if (await TryWriteAsync(entity, blocks, cancellationToken))
                    {
                        Closed(closes);
                    }

                    continue;
                }

                // Open blocks may close any moment, so look again after a hold at the latest.
                var wait = blocks.Min(LiveUntil) - now;
                await Task.Delay(TimeSpan.FromTicks(Math.Clamp(wait.Ticks, TimeSpan.TicksPerMillisecond, _poll.Ticks)), _time, cancellationToken);
                continue;
            }

            var claimed = new Block(now, Math.Min(desired, free), null, _owner);
            List<Block> written = [.. blocks, claimed];
            if (await TryWriteAsync(entity, written, cancellationToken))
            {
                Closed(closes);
                LastSeen = written;
                return new Claim(now, startTicks, claimed.Count);
            }
        }
    }

    /// <summary>
    /// Writes the pending closes and a closed block of <paramref name="sentInFallback"/> requests already sent without
    /// the table, whatever the room left, so that the others count them. With nothing to write it only checks that the
    /// table answers.
    /// </summary>
    public async Task RecordAsync(int sentInFallback, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        while (true)
        {
            var now = _time.GetUtcNow();
            var closes = PendingCloses();
            var entity = await _store.GetAsync(_table, Partition, _rowKey, cancellationToken);
            var blocks = Live(Apply(Parse(entity?.GetString(BlocksProperty)), closes), now);
            LastSeen = blocks;
            if (sentInFallback == 0 && closes.Count == 0)
            {
                return;
            }

            List<Block> written = sentInFallback > 0 ? [.. blocks, new Block(now, sentInFallback, now, _owner)] : blocks;
            if (await TryWriteAsync(entity, written, cancellationToken))
            {
                Closed(closes);
                LastSeen = written;
                return;
            }
        }
    }

    internal static string Format(IEnumerable<Block> blocks)
        => string.Join(';', blocks.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Start.UtcTicks}:{b.Count}:{b.End?.UtcTicks ?? 0}:{b.Owner}")));

    internal static List<Block> Parse(string? text)
    {
        var blocks = new List<Block>();
        foreach (var part in (text ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = part.Split(':');
            if (fields.Length == 4
                && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
                && start <= DateTimeOffset.MaxValue.UtcTicks && end <= DateTimeOffset.MaxValue.UtcTicks)
            {
                blocks.Add(new Block(new DateTimeOffset(start, TimeSpan.Zero), count, end == 0 ? null : new DateTimeOffset(end, TimeSpan.Zero), fields[3]));
            }
        }

        return blocks;
    }

    private List<BlockClose> PendingCloses()
    {
        lock (_closesGate)
        {
            return [.. _closes];
        }
    }

    private void Closed(List<BlockClose> written)
    {
        lock (_closesGate)
        {
            _closes.RemoveAll(written.Contains);
        }
    }

    private List<Block> Apply(List<Block> blocks, List<BlockClose> closes)
    {
        if (closes.Count == 0)
        {
            return blocks;
        }

        return [.. blocks.Select(b => b.Owner == _owner && b.End is null && closes.FirstOrDefault(c => c.Start == b.Start) is { } close
            ? b with { Count = close.Used, End = close.End }
            : b)];
    }

    private List<Block> Live(List<Block> blocks, DateTimeOffset now)
        => [.. blocks.Where(b => b.Count > 0 && LiveUntil(b) > now)];

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

    /// <summary>A block: claimed at <paramref name="Start"/>, closed at <paramref name="End"/> (null while open), by <paramref name="Owner"/>.</summary>
    internal sealed record Block(DateTimeOffset Start, int Count, DateTimeOffset? End, string Owner);

    /// <summary>This instance's finished block: how many permits it used, and when its last response came.</summary>
    internal sealed record BlockClose(DateTimeOffset Start, int Used, DateTimeOffset End);

    /// <summary>A block this instance claimed: its start on the UTC clock and on this process's TimeProvider clock, and its size.</summary>
    internal sealed record Claim(DateTimeOffset Start, long StartTicks, int Count);
}
