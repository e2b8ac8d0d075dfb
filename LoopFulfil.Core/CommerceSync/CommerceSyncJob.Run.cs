using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>One record's push, run by <see cref="Run.ProcessAsync"/> with bounded concurrency.</summary>
    private delegate Task<ItemOutcome> WorkItem(CancellationToken token);

    /// <summary>Turns a page of stamps into work items (with the page's reads batched).</summary>
    private delegate Task<List<WorkItem>> PreparePage(IReadOnlyList<FulfilStamp> stamps);

    /// <summary>Outcome of making sure a dependency exists in Loop: its Loop id(s), or why it cannot.</summary>
    private sealed record Resolved(string? LoopId, string? ParentLoopId, string? Reason, bool Transient = false)
    {
        public bool Ok => LoopId is not null;

        public static Resolved Fail(string reason, bool transient = false) => new(null, null, reason, transient);
    }

    /// <summary>
    /// The walk engine of one <see cref="RunAsync"/> call: cursors and checkpoints, the budget, bounded concurrency,
    /// the mapping cache and its batched writes (CommerceSyncJob.Writes.cs) and counters and progress
    /// (CommerceSyncJob.Progress.cs). What is walked, and how each record is pushed, is in the streams.
    /// </summary>
    private sealed partial class Run
    {
        private readonly CommerceSyncJob _job;
        private readonly string _stream;
        private readonly IProgress<SyncProgress>? _progress;
        private readonly long _startTimestamp;
        private volatile bool _stoppedByBudget;

        public Run(CommerceSyncJob job, SyncMode mode, string stream, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
        {
            _job = job;
            Mode = mode;
            _stream = stream;
            _progress = progress;
            Ct = cancellationToken;
            _startTimestamp = job._time.GetTimestamp();
            StartedAt = job._time.GetUtcNow();
            WindowStart = DateOnly.FromDateTime(StartedAt.UtcDateTime).AddDays(-job._options.ReturnWindowDays);
            Currency = job._options.CurrencyCode.Trim().ToUpperInvariant();
            Products = new ProductStream(this);
            Variants = new VariantStream(this, Products);
            Customers = new CustomerStream(this);
            Orders = new OrderStream(this, Variants, Customers);
            Inventory = new InventoryStream(this, Variants);
        }

        public SyncMode Mode { get; }

        public CancellationToken Ct { get; }

        public DateTimeOffset StartedAt { get; }

        /// <summary>First sale date inside the return window.</summary>
        public DateOnly WindowStart { get; }

        public string Currency { get; }

        public bool FullPass => _stream == FullPassStream;

        public bool StoppedByBudget => _stoppedByBudget;

        public CommerceSyncOptions Options => _job._options;

        public IFulfilClient Fulfil => _job._fulfil;

        public FulfilCommerceQueries Queries => _job._queries;

        public ILoopClient Loop => _job._loop;

        public ICommerceReturnRefunds? ReturnRefunds => _job._returnRefunds;

        public TimeProvider Time => _job._time;

        public ProductStream Products { get; }

        public VariantStream Variants { get; }

        public CustomerStream Customers { get; }

        public OrderStream Orders { get; }

        public InventoryStream Inventory { get; }

        private CommerceMappingStore Store => _job._store;

        public bool BudgetSpent =>
            (Options.RunWriteBudget > 0 && Interlocked.Read(ref _loopWrites) >= Options.RunWriteBudget)
            || Time.GetElapsedTime(_startTimestamp) >= Options.RunBudget;

        /// <summary>Checkpoint name of the create-date walk of <paramref name="name"/> (the write-date walk keeps the plain name).</summary>
        public static string CreatedWalk(string name) => name + ".created";

        public Task<CommerceCheckpoint?> CheckpointOfAsync(string walk) => Store.GetCheckpointAsync(_stream, walk, Ct);

        /// <summary>Marks <paramref name="walk"/> finished at <paramref name="cursor"/> (never cancelled: Loop already holds what it stands for).</summary>
        public Task FinishAsync(string walk, FulfilCursor? cursor) =>
            Store.SaveCheckpointAsync(_stream, walk, new CommerceCheckpoint(cursor, true, Time.GetUtcNow()), CancellationToken.None);

        /// <summary>
        /// Walks <paramref name="set"/> twice, each walk from its own checkpoint: records never edited since their
        /// creation by (create_date, id) — Tryton leaves their write_date empty — then edited ones by (write_date, id).
        /// </summary>
        public async Task<bool> WalkAsync(string name, FulfilCommerceSet set, PreparePage prepare)
        {
            var created = await WalkAsync(name, CreatedWalk(name), FulfilStampField.CreateDate, set, prepare).ConfigureAwait(false);
            if (!created && (_stoppedByBudget || Ct.IsCancellationRequested))
            {
                return false;
            }

            return await WalkAsync(name, name, FulfilStampField.WriteDate, set, prepare).ConfigureAwait(false) && created;
        }

        /// <summary>
        /// Walks <paramref name="set"/> by (<paramref name="stamp"/>, id) from the checkpoint <paramref name="walk"/>.
        /// Each page is prepared (batched reads) while the previous one is being pushed, and the checkpoint moves only
        /// once a page is fully handled.
        /// </summary>
        private async Task<bool> WalkAsync(string name, string walk, FulfilStampField stamp, FulfilCommerceSet set, PreparePage prepare)
        {
            _phase = name;
            if (BudgetSpent)
            {
                return StopForBudget(name);
            }

            var checkpoint = await CheckpointOfAsync(walk).ConfigureAwait(false);
            if (FullPass && checkpoint is { Finished: true })
            {
                return true;
            }

            var cursor = checkpoint?.Cursor;
            var size = Options.PageSize;
            var salesFrom = set == FulfilCommerceSet.Sales ? WindowStart : (DateOnly?)null;
            AddTotal(await Queries.CountChangesAsync(new FulfilCommerceChanges(set, cursor, size, stamp, salesFrom), Ct).ConfigureAwait(false));
            Report(force: true);

            async Task<(IReadOnlyList<FulfilStamp> Stamps, List<WorkItem> Items)> LoadAsync(FulfilCursor? after)
            {
                var stamps = await Queries.GetChangesAsync(new FulfilCommerceChanges(set, after, size, stamp, salesFrom), Ct).ConfigureAwait(false);
                return stamps.Count == 0 ? (stamps, []) : (stamps, await prepare(stamps).ConfigureAwait(false));
            }

            // Page N's mappings and checkpoint are written while page N+1 is pushed, so Loop requests keep flowing
            // across page boundaries; a checkpoint is still only written after its page's mappings.
            var checkpointing = Task.CompletedTask;
            var next = LoadAsync(cursor);
            try
            {
                while (true)
                {
                    var (stamps, items) = await next.ConfigureAwait(false);
                    if (stamps.Count == 0)
                    {
                        await checkpointing.ConfigureAwait(false);
                        await FinishAsync(walk, cursor).ConfigureAwait(false);
                        return true;
                    }

                    var last = new FulfilCursor(stamps[^1].WriteDate, stamps[^1].Id);
                    next = stamps.Count < size ? Task.FromResult<(IReadOnlyList<FulfilStamp>, List<WorkItem>)>(([], [])) : LoadAsync(last);
                    if (!await ProcessAsync(items).ConfigureAwait(false))
                    {
                        Forget(next);
                        return _stoppedByBudget ? StopForBudget(name) : false;
                    }

                    // Stamps that became no work item (returns folded into their order, duplicates) are done as well.
                    AddDone(stamps.Count - items.Count);
                    await checkpointing.ConfigureAwait(false);
                    checkpointing = CheckpointAsync(walk, last);
                    cursor = last;
                    if (BudgetSpent)
                    {
                        Forget(next);
                        return StopForBudget(name);
                    }
                }
            }
            finally
            {
                await checkpointing.ConfigureAwait(false);
            }
        }

        private async Task CheckpointAsync(string walk, FulfilCursor cursor)
        {
            await FlushAsync().ConfigureAwait(false);
            await Store.SaveCheckpointAsync(_stream, walk, new CommerceCheckpoint(cursor, false, Time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
        }

        /// <summary>Runs items with bounded concurrency; stops taking new ones once the budget is spent. True when all finished without a transient failure.</summary>
        public async Task<bool> ProcessAsync(IReadOnlyList<WorkItem> items)
        {
            var failed = 0;
            var stopped = 0;
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxConcurrency, CancellationToken = Ct };
            await Parallel.ForEachAsync(items, parallel, async (item, token) =>
            {
                if (BudgetSpent)
                {
                    Interlocked.Exchange(ref stopped, 1);
                    return;
                }

                if (await item(token).ConfigureAwait(false) == ItemOutcome.Failed)
                {
                    Interlocked.Increment(ref failed);
                }

                AddDone(1);
                Report();
            }).ConfigureAwait(false);
            if (stopped != 0)
            {
                _stoppedByBudget = true;
            }

            return stopped == 0 && failed == 0;
        }

        /// <summary>Runs chunked work (no cursor: ids known up front) until done, a failure or the budget.</summary>
        public async Task<bool> ProcessChunksAsync(string name, IEnumerable<int[]> chunks, Func<int[], Task<List<WorkItem>>> prepare)
        {
            foreach (var chunk in chunks)
            {
                if (BudgetSpent)
                {
                    return StopForBudget(name);
                }

                if (!await ProcessAsync(await prepare(chunk).ConfigureAwait(false)).ConfigureAwait(false))
                {
                    return _stoppedByBudget ? StopForBudget(name) : false;
                }
            }

            return true;
        }

        /// <summary>Starts phase <paramref name="name"/>; false (and the run marked stopped) when the budget is already spent.</summary>
        public bool Begin(string name)
        {
            _phase = name;
            return !BudgetSpent || StopForBudget(name);
        }

        public bool StopForBudget(string walk)
        {
            _stoppedByBudget = true;
            LogBudget(_job._logger, Mode, walk);
            return false;
        }

        public static T? FirstOrNull<T>(IReadOnlyList<T> list)
            where T : class => list.Count > 0 ? list[0] : null;

        /// <summary>Observes a read-ahead that will not be used, so its failure is not unobserved.</summary>
        public static void Forget<T>(Task<T> task) =>
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
