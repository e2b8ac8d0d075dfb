using System.Collections.Concurrent;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    private sealed class Counter
    {
        public int Sent;
        public int Unchanged;
        public int NotSent;
        public int Failed;
        public int Skipped;
    }

    // Counters per kind, done/total/Loop writes, and the throttled progress reports and logs.
    private sealed partial class Run
    {
        private readonly ConcurrentDictionary<string, Counter> _counts = new(StringComparer.Ordinal);
        private readonly Lock _reportGate = new();
        private long _done;
        private long _total;
        private long _loopWrites;
        private long _lastProgress;
        private long _lastLog;
        private volatile string _phase = "start";

        public void AddTotal(long count) => Interlocked.Add(ref _total, count);

        public void AddDone(long count) => Interlocked.Add(ref _done, count);

        /// <summary>Records of <paramref name="kind"/> sent to Loop so far in this run.</summary>
        public int SentCount(string kind) => _counts.TryGetValue(kind, out var counter) ? Volatile.Read(ref counter.Sent) : 0;

        public void Count(string kind, ItemOutcome outcome)
        {
            var counter = _counts.GetOrAdd(kind, _ => new Counter());
            switch (outcome)
            {
                case ItemOutcome.Sent: Interlocked.Increment(ref counter.Sent); break;
                case ItemOutcome.Unchanged: Interlocked.Increment(ref counter.Unchanged); break;
                case ItemOutcome.NotSent: Interlocked.Increment(ref counter.NotSent); break;
                case ItemOutcome.Failed: Interlocked.Increment(ref counter.Failed); break;
                default: Interlocked.Increment(ref counter.Skipped); break;
            }
        }

        public ItemOutcome Skip(string kind)
        {
            Count(kind, ItemOutcome.Skipped);
            return ItemOutcome.Skipped;
        }

        public CommerceSyncResult Result(bool completed)
        {
            var entities = _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new CommerceEntityCounts(kv.Key, kv.Value.Sent, kv.Value.Unchanged, kv.Value.NotSent, kv.Value.Failed, kv.Value.Skipped))
                .ToList();
            return new CommerceSyncResult(Mode, completed, _stoppedByBudget, entities, Interlocked.Read(ref _loopWrites), Time.GetElapsedTime(_startTimestamp));
        }

        public void Report(string? phase = null, bool force = false)
        {
            var now = Time.GetTimestamp();
            var elapsed = Time.GetElapsedTime(_startTimestamp);
            var ticksPerSecond = Time.TimestampFrequency;
            bool emit;
            bool log;
            lock (_reportGate)
            {
                emit = force || now - _lastProgress >= ticksPerSecond / 4;
                log = force || now - _lastLog >= ticksPerSecond * 10;
                if (emit)
                {
                    _lastProgress = now;
                }

                if (log)
                {
                    _lastLog = now;
                }
            }

            if (!emit && !log)
            {
                return;
            }

            var done = Interlocked.Read(ref _done);
            var total = Math.Max(done, Interlocked.Read(ref _total));
            var writes = Interlocked.Read(ref _loopWrites);
            var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
            TimeSpan? eta = done > 0 && total > done ? TimeSpan.FromSeconds((total - done) * seconds / done) : (total == done ? TimeSpan.Zero : null);
            var p = new SyncProgress(Mode, phase ?? _phase, done, total, writes, writes / seconds, elapsed, eta);
            if (emit)
            {
                _progress?.Report(p);
            }

            if (log)
            {
                LogProgress(_job._logger, p.Mode, p.Phase, p.Done, p.Total, p.LoopWrites, p.LoopRequestsPerSecond, p.EstimatedRemaining);
            }
        }
    }
}
