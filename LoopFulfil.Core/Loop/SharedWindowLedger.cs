using System.Globalization;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Loop;

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

            var written = sentInFallback > 0 ? [.. blocks, new Block(now, sentInFallback, now, _owner)] : blocks;
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
