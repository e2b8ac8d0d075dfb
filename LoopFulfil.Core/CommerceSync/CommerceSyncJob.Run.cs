using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Loop;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    private enum ItemOutcome
    {
        Sent,
        Unchanged,
        NotSent,
        Failed,
        Skipped,
    }

    /// <summary>What the inventory hash covers: the Loop ids and the count sent.</summary>
    private sealed record InventoryBody(string VariantId, string LocationId, long AvailableCount);

    /// <summary>Outcome of making sure a dependency exists in Loop: its Loop id(s), or why it cannot.</summary>
    private sealed record Resolved(string? LoopId, string? ParentLoopId, string? Reason, bool Transient = false)
    {
        public bool Ok => LoopId is not null;

        public static Resolved Fail(string reason, bool transient = false) => new(null, null, reason, transient);
    }

    /// <summary>Records read in a page for dependencies that are not mapped yet (batched instead of one read each).</summary>
    private sealed record PageDependencies(
        IReadOnlyDictionary<int, FulfilProduct> Products,
        IReadOnlyDictionary<int, FulfilProductTemplate> Templates,
        IReadOnlyDictionary<int, FulfilParty> Parties)
    {
        public static readonly PageDependencies None = new(new Dictionary<int, FulfilProduct>(), new Dictionary<int, FulfilProductTemplate>(), new Dictionary<int, FulfilParty>());
    }

    private sealed class Counter
    {
        public int Sent;
        public int Unchanged;
        public int NotSent;
        public int Failed;
        public int Skipped;
    }

    /// <summary>State of one <see cref="RunAsync"/> call: caches, counters, budget and progress.</summary>
    private sealed class Run
    {
        private static readonly object[] ActiveOrArchived = ["active", "in", new[] { true, false }];
        private static readonly string[] OrderStates = ["confirmed", "processing", "done", "cancel", "cancelled"];

        private readonly CommerceSyncJob _job;
        private readonly SyncMode _mode;
        private readonly string _stream;
        private readonly IProgress<SyncProgress>? _progress;
        private readonly CancellationToken _ct;
        private readonly long _startTimestamp;
        private readonly DateTimeOffset _startedAt;
        private readonly DateOnly _windowStart;
        private readonly string _currency;
        private readonly ConcurrentDictionary<string, Lazy<Task<ConcurrentDictionary<string, CommerceMapping>>>> _maps = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Lazy<Task<Resolved>>> _ensures = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<int, byte> _newVariants = new();
        private readonly ConcurrentDictionary<int, byte> _seenOrders = new();
        private readonly ConcurrentDictionary<string, Counter> _counts = new(StringComparer.Ordinal);
        private readonly Lock _reportGate = new();
        private readonly Lock _pendingGate = new();
        private readonly List<Task> _flushes = [];
        private List<CommerceMapping> _pending = [];
        private IReadOnlyList<FulfilLocationNode> _locations = [];
        private long _done;
        private long _total;
        private long _loopWrites;
        private long _lastProgress;
        private long _lastLog;
        private volatile string _phase = "start";
        private volatile bool _stoppedByBudget;

        public Run(CommerceSyncJob job, SyncMode mode, string stream, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
        {
            _job = job;
            _mode = mode;
            _stream = stream;
            _progress = progress;
            _ct = cancellationToken;
            _startTimestamp = job._time.GetTimestamp();
            _startedAt = job._time.GetUtcNow();
            _windowStart = DateOnly.FromDateTime(_startedAt.UtcDateTime).AddDays(-job._options.ReturnWindowDays);
            _currency = job._options.CurrencyCode.Trim().ToUpperInvariant();
        }

        private CommerceSyncOptions Options => _job._options;

        private IFulfilClient Fulfil => _job._fulfil;

        private ILoopClient Loop => _job._loop;

        private CommerceMappingStore Store => _job._store;

        private bool BudgetSpent =>
            (Options.RunWriteBudget > 0 && Interlocked.Read(ref _loopWrites) >= Options.RunWriteBudget)
            || _job._time.GetElapsedTime(_startTimestamp) >= Options.RunBudget;

        public async Task<bool> ExecuteAsync()
        {
            var complete = await LocationsAsync().ConfigureAwait(false);
            complete &= await WalkAsync(CommerceKinds.Product, "product.template", [ActiveOrArchived], null, PrepareTemplatesAsync).ConfigureAwait(false);
            complete &= await WalkAsync(CommerceKinds.Variant, "product.product", [ActiveOrArchived], null, PrepareVariantsAsync).ConfigureAwait(false);
            complete &= await WalkAsync(CommerceKinds.Customer, "party.party", [ActiveOrArchived], null, PrepareCustomersAsync).ConfigureAwait(false);
            IReadOnlyList<object?> orderDomain = [new object[] { "sale_date", ">=", _windowStart }, new object[] { "state", "in", OrderStates }];
            complete &= await WalkAsync(CommerceKinds.Order, "sale.sale", orderDomain, _job._fulfilOptions.ReturnOriginSaleField, PrepareOrdersFromStampsAsync).ConfigureAwait(false);
            complete &= await RetryHeldBackOrdersAsync().ConfigureAwait(false);
            complete &= await InventoryAsync().ConfigureAwait(false);
            if (_mode == SyncMode.FullPass)
            {
                complete &= await ArchiveAsync().ConfigureAwait(false);
            }

            return complete && !_stoppedByBudget;
        }

        public CommerceSyncResult Result(bool completed)
        {
            var entities = _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new CommerceEntityCounts(kv.Key, kv.Value.Sent, kv.Value.Unchanged, kv.Value.NotSent, kv.Value.Failed, kv.Value.Skipped))
                .ToList();
            return new CommerceSyncResult(_mode, completed, _stoppedByBudget, entities, Interlocked.Read(ref _loopWrites), _job._time.GetElapsedTime(_startTimestamp));
        }

        // ------------------------------------------------------------------ walking and processing

        /// <summary>
        /// Walks <paramref name="model"/> twice, each walk from its own checkpoint: records never edited since their
        /// creation by (create_date, id) — Tryton leaves their write_date empty — then edited ones by (write_date, id).
        /// </summary>
        private async Task<bool> WalkAsync(string name, string model, IReadOnlyList<object?> domain, string? refField, Func<IReadOnlyList<FulfilStamp>, Task<List<Func<CancellationToken, Task<ItemOutcome>>>>> prepare)
        {
            var created = await WalkAsync(name, CreatedWalk(name), FulfilStampField.CreateDate, model, domain, refField, prepare).ConfigureAwait(false);
            if (!created && (_stoppedByBudget || _ct.IsCancellationRequested))
            {
                return false;
            }

            return await WalkAsync(name, name, FulfilStampField.WriteDate, model, domain, refField, prepare).ConfigureAwait(false) && created;
        }

        /// <summary>Checkpoint name of the create-date walk of <paramref name="name"/> (the write-date walk keeps the plain name).</summary>
        private static string CreatedWalk(string name) => name + ".created";

        /// <summary>
        /// Walks <paramref name="model"/> by (<paramref name="stamp"/>, id) from the checkpoint <paramref name="walk"/>.
        /// Each page is prepared (batched reads) while the previous one is being pushed, and the checkpoint moves only
        /// once a page is fully handled.
        /// </summary>
        private async Task<bool> WalkAsync(string name, string walk, FulfilStampField stamp, string model, IReadOnlyList<object?> domain, string? refField, Func<IReadOnlyList<FulfilStamp>, Task<List<Func<CancellationToken, Task<ItemOutcome>>>>> prepare)
        {
            _phase = name;
            if (BudgetSpent)
            {
                return StopForBudget(name);
            }

            var checkpoint = await Store.GetCheckpointAsync(_stream, walk, _ct).ConfigureAwait(false);
            if (_stream == FullPassStream && checkpoint is { Finished: true })
            {
                return true;
            }

            var cursor = checkpoint?.Cursor;
            var size = Options.PageSize;
            Interlocked.Add(ref _total, await Fulfil.CountModifiedAsync(new FulfilModifiedQuery(model, cursor, size, domain, refField, stamp), _ct).ConfigureAwait(false));
            Report(force: true);

            async Task<(IReadOnlyList<FulfilStamp> Stamps, List<Func<CancellationToken, Task<ItemOutcome>>> Items)> LoadAsync(FulfilCursor? after)
            {
                var stamps = await Fulfil.GetModifiedAsync(new FulfilModifiedQuery(model, after, size, domain, refField, stamp), _ct).ConfigureAwait(false);
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
                        await Store.SaveCheckpointAsync(_stream, walk, new CommerceCheckpoint(cursor, true, _job._time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
                        return true;
                    }

                    var last = new FulfilCursor(stamps[^1].WriteDate, stamps[^1].Id);
                    next = stamps.Count < size ? Task.FromResult<(IReadOnlyList<FulfilStamp>, List<Func<CancellationToken, Task<ItemOutcome>>>)>(([], [])) : LoadAsync(last);
                    var ok = await ProcessAsync(items).ConfigureAwait(false);
                    if (!ok)
                    {
                        Forget(next);
                        return _stoppedByBudget ? StopForBudget(name) : false;
                    }

                    // Stamps that became no work item (returns folded into their order, duplicates) are done as well.
                    Interlocked.Add(ref _done, stamps.Count - items.Count);
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

        private async Task CheckpointAsync(string name, FulfilCursor cursor)
        {
            await FlushAsync().ConfigureAwait(false);
            await Store.SaveCheckpointAsync(_stream, name, new CommerceCheckpoint(cursor, false, _job._time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
        }

        /// <summary>Runs items with bounded concurrency; stops taking new ones once the budget is spent. True when all finished without a transient failure.</summary>
        private async Task<bool> ProcessAsync(IReadOnlyList<Func<CancellationToken, Task<ItemOutcome>>> items)
        {
            var failed = 0;
            var stopped = 0;
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxConcurrency, CancellationToken = _ct };
            await Parallel.ForEachAsync(items, parallel, async (item, token) =>
            {
                if (BudgetSpent)
                {
                    Interlocked.Exchange(ref stopped, 1);
                    return;
                }

                var outcome = await item(token).ConfigureAwait(false);
                if (outcome == ItemOutcome.Failed)
                {
                    Interlocked.Increment(ref failed);
                }

                Interlocked.Increment(ref _done);
                Report();
            }).ConfigureAwait(false);
            if (stopped != 0)
            {
                _stoppedByBudget = true;
            }

            return stopped == 0 && failed == 0;
        }

        private bool StopForBudget(string walk)
        {
            _stoppedByBudget = true;
            LogBudget(_job._logger, _mode, walk);
            return false;
        }

        private static T? FirstOrNull<T>(IReadOnlyList<T> list)
            where T : class => list.Count > 0 ? list[0] : null;

        private static void Forget<T>(Task<T> task) =>
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // ------------------------------------------------------------------ mappings and sending

        private Task<ConcurrentDictionary<string, CommerceMapping>> MapAsync(string kind) =>
            _maps.GetOrAdd(kind, k => new Lazy<Task<ConcurrentDictionary<string, CommerceMapping>>>(async () =>
                new ConcurrentDictionary<string, CommerceMapping>(await Store.LoadAsync(k, _ct).ConfigureAwait(false), StringComparer.Ordinal))).Value;

        private Task<Resolved> Once(string key, Func<Task<Resolved>> factory) =>
            _ensures.GetOrAdd(key, _ => new Lazy<Task<Resolved>>(factory)).Value;

        private void Count(string kind, ItemOutcome outcome)
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

        private ItemOutcome Skip(string kind)
        {
            Count(kind, ItemOutcome.Skipped);
            return ItemOutcome.Skipped;
        }

        /// <summary>
        /// Sends <paramref name="body"/> unless Loop already holds exactly it (same content hash), and records the
        /// outcome. The mapping is written even if the run is being cancelled, so an accepted write is never repeated.
        /// </summary>
        private async Task<(ItemOutcome Outcome, string? LoopId)> SendAsync<T>(
            string kind,
            string fulfilId,
            T body,
            Func<T, CancellationToken, Task<string?>> send,
            CancellationToken token,
            string? salt = null,
            Func<CommerceMapping, CommerceMapping>? decorate = null)
        {
            var map = await MapAsync(kind).ConfigureAwait(false);
            var hash = CommerceMapper.Hash(body, salt);
            map.TryGetValue(fulfilId, out var existing);
            if (existing is { Outcome: CommerceOutcome.Sent, LoopId: not null } && existing.ContentHash == hash)
            {
                Count(kind, ItemOutcome.Unchanged);
                return (ItemOutcome.Unchanged, existing.LoopId);
            }

            string? loopId;
            try
            {
                Interlocked.Increment(ref _loopWrites);
                loopId = await send(body, token).ConfigureAwait(false);
            }
            catch (PermanentIntegrationException ex) when (ex is not LoopAuthenticationException and not FulfilAuthenticationException)
            {
                return (await NotSentAsync(kind, fulfilId, $"{LoopRefused}{ex.Message}", existing).ConfigureAwait(false), null);
            }
            catch (TransientIntegrationException ex)
            {
                LogTransient(_job._logger, kind, fulfilId, ex.Message);
                return (Failed(map, kind, fulfilId, ex.Message, existing), null);
            }

            if (string.IsNullOrEmpty(loopId))
            {
                return (await NotSentAsync(kind, fulfilId, "Loop answered without an id", existing).ConfigureAwait(false), null);
            }

            var mapping = new CommerceMapping
            {
                Kind = kind,
                FulfilId = fulfilId,
                LoopId = loopId,
                ContentHash = hash,
                Outcome = CommerceOutcome.Sent,
                UpdatedAt = _job._time.GetUtcNow(),
            };
            mapping = decorate?.Invoke(mapping) ?? mapping;
            Record(mapping);
            map[fulfilId] = mapping;
            if (existing is { Outcome: CommerceOutcome.NotSent })
            {
                await ResolveProblemAsync(kind, fulfilId).ConfigureAwait(false);
            }

            if (kind == CommerceKinds.Variant && existing?.LoopId is null)
            {
                _newVariants.TryAdd(int.Parse(fulfilId, CultureInfo.InvariantCulture), 0);
            }

            Count(kind, ItemOutcome.Sent);
            return (ItemOutcome.Sent, loopId);
        }

        /// <summary>
        /// Records why a record was not sent, and raises it for its owner (CommerceRecordNotSent) unless the same reason
        /// was already raised. A Loop id already known is kept (Loop still has the older version). Failed (retried next
        /// run) when the exception record cannot be written, so a problem is never recorded without being raised.
        /// </summary>
        private async Task<ItemOutcome> NotSentAsync(string kind, string fulfilId, string reason, CommerceMapping? existing = null)
        {
            var map = await MapAsync(kind).ConfigureAwait(false);
            existing ??= map.GetValueOrDefault(fulfilId);
            var raised = existing is { Outcome: CommerceOutcome.NotSent } && string.Equals(existing.Reason, reason, StringComparison.Ordinal);
            if (!raised && _job._exceptions is { } exceptions)
            {
                try
                {
                    await exceptions.RaiseAsync(
                        new ExceptionRaise(ExceptionCategory.CommerceRecordNotSent, null, $"Fulfil {kind} {fulfilId} was not sent to Loop: {reason}")
                        {
                            DetailKey = ProblemKey(kind, fulfilId),
                            Source = ExceptionSource,
                        },
                        CancellationToken.None).ConfigureAwait(false);
                }
                catch (TransientIntegrationException ex)
                {
                    LogTransient(_job._logger, kind, fulfilId, ex.Message);
                    return Failed(map, kind, fulfilId, reason, existing);
                }
            }

            var mapping = new CommerceMapping
            {
                Kind = kind,
                FulfilId = fulfilId,
                LoopId = existing?.LoopId,
                ParentId = existing?.ParentId,
                Outcome = CommerceOutcome.NotSent,
                Reason = reason,
                UpdatedAt = _job._time.GetUtcNow(),
            };
            Record(mapping);
            map[fulfilId] = mapping;
            LogNotSent(_job._logger, kind, fulfilId, reason);
            Count(kind, ItemOutcome.NotSent);
            return ItemOutcome.NotSent;
        }

        /// <summary>Records a transient failure: the mapping keeps its Loop id, the next run tries the record again.</summary>
        private ItemOutcome Failed(ConcurrentDictionary<string, CommerceMapping> map, string kind, string fulfilId, string reason, CommerceMapping? existing)
        {
            var failed = (existing ?? new CommerceMapping { Kind = kind, FulfilId = fulfilId }) with
            {
                Outcome = CommerceOutcome.Failed,
                Reason = reason,
                UpdatedAt = _job._time.GetUtcNow(),
            };
            Record(failed);
            map[fulfilId] = failed;
            Count(kind, ItemOutcome.Failed);
            return ItemOutcome.Failed;
        }

        /// <summary>A record that was not sent before and now is: its exception record resolves itself.</summary>
        private async Task ResolveProblemAsync(string kind, string fulfilId)
        {
            if (_job._exceptions is not { } exceptions)
            {
                return;
            }

            try
            {
                await exceptions.ResolveIfOpenAsync(ExceptionCategory.CommerceRecordNotSent, null, ProblemKey(kind, fulfilId), "Sent to Loop by a later commerce sync run.", CancellationToken.None).ConfigureAwait(false);
            }
            catch (TransientIntegrationException ex)
            {
                // The record stays open for a person to close; the data itself is in Loop.
                LogTransient(_job._logger, kind, fulfilId, ex.Message);
            }
        }

        private static string ProblemKey(string kind, string fulfilId) => $"{kind}:{fulfilId}";

        /// <summary>Reason prefix of records Loop refused (as opposed to held back for a dependency).</summary>
        private const string LoopRefused = "Loop refused it: ";

        /// <summary>
        /// Queues a mapping for a batched write (100 rows per request). The in-memory map is already updated, so
        /// dependants see it at once; <see cref="FlushAsync"/> runs before every checkpoint and at the end of the run,
        /// so a checkpoint never gets ahead of the mappings it stands for.
        /// </summary>
        private void Record(CommerceMapping mapping)
        {
            List<CommerceMapping>? full = null;
            lock (_pendingGate)
            {
                _pending.Add(mapping);
                if (_pending.Count >= 100)
                {
                    full = _pending;
                    _pending = [];
                }
            }

            if (full is not null)
            {
                var flush = Store.SaveManyAsync(full, CancellationToken.None);
                lock (_pendingGate)
                {
                    _flushes.Add(flush);
                }
            }
        }

        /// <summary>Writes every queued mapping (even when the run is being cancelled: Loop already holds them).</summary>
        public async Task FlushAsync()
        {
            List<CommerceMapping> rest;
            Task[] running;
            lock (_pendingGate)
            {
                rest = _pending;
                _pending = [];
                running = [.. _flushes];
                _flushes.Clear();
            }

            if (rest.Count > 0)
            {
                await Store.SaveManyAsync(rest, CancellationToken.None).ConfigureAwait(false);
            }

            await Task.WhenAll(running).ConfigureAwait(false);
        }

        // ------------------------------------------------------------------ locations

        private async Task<bool> LocationsAsync()
        {
            _phase = CommerceKinds.Location;
            if (BudgetSpent)
            {
                return StopForBudget(CommerceKinds.Location);
            }

            _locations = await Fulfil.GetAllLocationsAsync(_ct).ConfigureAwait(false);
            var mapped = await MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var warehouses = _locations.Where(l => l.Type == "warehouse").ToList();
            Interlocked.Add(ref _total, warehouses.Count);
            var items = warehouses.Select(w => (Func<CancellationToken, Task<ItemOutcome>>)(async token =>
            {
                var id = CommerceMapper.ExternalId(w.Id);
                if (!w.Active && !mapped.ContainsKey(id))
                {
                    return Skip(CommerceKinds.Location);
                }

                var body = CommerceMapper.Location(w, Options);
                return (await SendAsync(CommerceKinds.Location, id, body, async (b, t) => (await Loop.UpsertLocationAsync(b, t).ConfigureAwait(false)).Id, token).ConfigureAwait(false)).Outcome;
            })).ToList();
            return await ProcessAsync(items).ConfigureAwait(false);
        }

        // ------------------------------------------------------------------ products and variants

        private async Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareTemplatesAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var mapped = await MapAsync(CommerceKinds.Product).ConfigureAwait(false);

            // Templates reach Loop with their first variant; a template walk only refreshes ones Loop already has.
            var ids = stamps.Select(s => s.Id).Where(id => mapped.ContainsKey(CommerceMapper.ExternalId(id))).ToList();
            var templates = ids.Count == 0 ? [] : await Fulfil.GetProductTemplatesByIdsAsync(ids, _ct).ConfigureAwait(false);
            var byId = templates.ToDictionary(t => t.Id);
            return stamps.Select(s => (Func<CancellationToken, Task<ItemOutcome>>)(async token =>
            {
                if (!byId.TryGetValue(s.Id, out var template))
                {
                    return Skip(CommerceKinds.Product);
                }

                return (await SendProductAsync(template, token).ConfigureAwait(false)).Outcome;
            })).ToList();
        }

        private Task<(ItemOutcome Outcome, string? LoopId)> SendProductAsync(FulfilProductTemplate template, CancellationToken token) =>
            SendAsync(
                CommerceKinds.Product,
                CommerceMapper.ExternalId(template.Id),
                CommerceMapper.Product(template, null, Options.Channel, _currency),
                async (b, t) => (await Loop.UpsertProductAsync(b, t).ConfigureAwait(false)).Id,
                token);

        private async Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareVariantsAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var products = await Fulfil.GetProductsByIdsAsync(stamps.Select(s => s.Id).ToList(), _ct).ConfigureAwait(false);
            var templateIds = products.Where(p => p.TemplateId is not null).Select(p => p.TemplateId!.Value).Distinct().ToList();
            var templates = templateIds.Count == 0 ? [] : await Fulfil.GetProductTemplatesByIdsAsync(templateIds, _ct).ConfigureAwait(false);
            var deps = new PageDependencies(products.ToDictionary(p => p.Id), templates.ToDictionary(t => t.Id), new Dictionary<int, FulfilParty>());
            var mapped = await MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            return stamps.Select(s => (Func<CancellationToken, Task<ItemOutcome>>)(async token =>
            {
                var product = deps.Products.GetValueOrDefault(s.Id);

                // Archived variants go to Loop only when an order needs them (they can still be returned).
                if (product is { Active: false } && !mapped.ContainsKey(CommerceMapper.ExternalId(s.Id)))
                {
                    return Skip(CommerceKinds.Variant);
                }

                return (await SyncVariantAsync(s.Id, product, deps, token).ConfigureAwait(false)).Outcome;
            })).ToList();
        }

        /// <summary>Pushes a variant (and its product first when Loop lacks it). Unsyncable variants are recorded with the reason.</summary>
        private async Task<(ItemOutcome Outcome, Resolved Resolved)> SyncVariantAsync(int productId, FulfilProduct? product, PageDependencies deps, CancellationToken token)
        {
            var id = CommerceMapper.ExternalId(productId);
            var problem = CommerceMapper.VariantProblem(product, productId);
            if (problem is not null)
            {
                return (await NotSentAsync(CommerceKinds.Variant, id, problem).ConfigureAwait(false), Resolved.Fail(problem));
            }

            var templateId = product!.TemplateId!.Value;
            var template = deps.Templates.GetValueOrDefault(templateId);
            var parent = await EnsureProductAsync(templateId, template, token).ConfigureAwait(false);
            if (!parent.Ok)
            {
                if (parent.Transient)
                {
                    Count(CommerceKinds.Variant, ItemOutcome.Failed);
                    return (ItemOutcome.Failed, parent);
                }

                var reason = $"its product (template {templateId}) cannot be synced: {parent.Reason}";
                return (await NotSentAsync(CommerceKinds.Variant, id, reason).ConfigureAwait(false), Resolved.Fail(reason));
            }

            var parentExternalId = CommerceMapper.ExternalId(templateId);
            var body = CommerceMapper.Variant(product, template, _currency);
            var (outcome, loopId) = await SendAsync(
                CommerceKinds.Variant,
                id,
                body,
                async (b, t) => (await Loop.UpsertVariantAsync(parentExternalId, b, t).ConfigureAwait(false)).Id,
                token,
                salt: parentExternalId,
                decorate: m => m with { ParentId = parentExternalId }).ConfigureAwait(false);
            if (loopId is null)
            {
                var mapping = (await MapAsync(CommerceKinds.Variant).ConfigureAwait(false)).GetValueOrDefault(id);
                return (outcome, mapping?.LoopId is { } older
                    ? new Resolved(older, parent.LoopId, null)
                    : Resolved.Fail(mapping?.Reason ?? "variant not accepted by Loop", transient: outcome == ItemOutcome.Failed));
            }

            return (outcome, new Resolved(loopId, parent.LoopId, null));
        }

        private Task<Resolved> EnsureProductAsync(int templateId, FulfilProductTemplate? known, CancellationToken token) =>
            Once("product:" + CommerceMapper.ExternalId(templateId), async () =>
            {
                var mapped = await MapAsync(CommerceKinds.Product).ConfigureAwait(false);
                if (mapped.TryGetValue(CommerceMapper.ExternalId(templateId), out var m) && m.LoopId is not null)
                {
                    return new Resolved(m.LoopId, null, null);
                }

                var template = known ?? FirstOrNull(await Fulfil.GetProductTemplatesByIdsAsync([templateId], token).ConfigureAwait(false));
                if (template is null)
                {
                    var reason = $"template {templateId} does not exist in Fulfil";
                    await NotSentAsync(CommerceKinds.Product, CommerceMapper.ExternalId(templateId), reason).ConfigureAwait(false);
                    return Resolved.Fail(reason);
                }

                var (outcome, loopId) = await SendProductAsync(template, token).ConfigureAwait(false);
                return loopId is null ? Resolved.Fail($"Loop did not accept product {templateId}", outcome == ItemOutcome.Failed) : new Resolved(loopId, null, null);
            });

        /// <summary>The Loop product and variant ids of a Fulfil variant, pushing them first when Loop lacks them (once per run).</summary>
        private Task<Resolved> EnsureVariantAsync(int productId, PageDependencies deps, CancellationToken token) =>
            Once("variant:" + CommerceMapper.ExternalId(productId), async () =>
            {
                var variants = await MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
                var products = await MapAsync(CommerceKinds.Product).ConfigureAwait(false);
                if (variants.TryGetValue(CommerceMapper.ExternalId(productId), out var v) && v.LoopId is not null
                    && v.ParentId is not null && products.TryGetValue(v.ParentId, out var p) && p.LoopId is not null)
                {
                    return new Resolved(v.LoopId, p.LoopId, null);
                }

                var product = deps.Products.GetValueOrDefault(productId)
                    ?? FirstOrNull(await Fulfil.GetProductsByIdsAsync([productId], token).ConfigureAwait(false));
                return (await SyncVariantAsync(productId, product, deps, token).ConfigureAwait(false)).Resolved;
            });

        // ------------------------------------------------------------------ customers

        private async Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareCustomersAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var mapped = await MapAsync(CommerceKinds.Customer).ConfigureAwait(false);

            // Customers reach Loop with their first order in the window; the walk only refreshes ones Loop already has.
            var ids = stamps.Select(s => s.Id).Where(id => mapped.ContainsKey(CommerceMapper.ExternalId(id))).ToList();
            var parties = ids.Count == 0 ? [] : await Fulfil.GetPartiesByIdsAsync(ids, _ct).ConfigureAwait(false);
            var byId = parties.ToDictionary(p => p.Id);
            return stamps.Select(s => (Func<CancellationToken, Task<ItemOutcome>>)(async token =>
                byId.TryGetValue(s.Id, out var party)
                    ? (await SendCustomerAsync(party, token).ConfigureAwait(false)).Outcome
                    : Skip(CommerceKinds.Customer))).ToList();
        }

        private Task<(ItemOutcome Outcome, string? LoopId)> SendCustomerAsync(FulfilParty party, CancellationToken token) =>
            SendAsync(
                CommerceKinds.Customer,
                CommerceMapper.ExternalId(party.Id),
                CommerceMapper.Customer(party, Options.Channel),
                async (b, t) => (await Loop.UpsertCustomerAsync(b, t).ConfigureAwait(false)).Id,
                token);

        private Task<Resolved> EnsureCustomerAsync(int partyId, PageDependencies deps, CancellationToken token) =>
            Once("customer:" + CommerceMapper.ExternalId(partyId), async () =>
            {
                var mapped = await MapAsync(CommerceKinds.Customer).ConfigureAwait(false);
                if (mapped.TryGetValue(CommerceMapper.ExternalId(partyId), out var m) && m.LoopId is not null)
                {
                    return new Resolved(m.LoopId, null, null);
                }

                var party = deps.Parties.GetValueOrDefault(partyId)
                    ?? FirstOrNull(await Fulfil.GetPartiesByIdsAsync([partyId], token).ConfigureAwait(false));
                if (party is null)
                {
                    return Resolved.Fail($"party {partyId} does not exist in Fulfil");
                }

                var (outcome, loopId) = await SendCustomerAsync(party, token).ConfigureAwait(false);
                return loopId is null ? Resolved.Fail($"Loop did not accept customer {partyId}", outcome == ItemOutcome.Failed) : new Resolved(loopId, null, null);
            });

        // ------------------------------------------------------------------ orders

        /// <summary>
        /// Orders held back by a dependency (a line's product or the customer could not be sent) get another try in a
        /// run that sent variants or customers: fixing the product in Fulfil does not move the order's own write_date,
        /// so the walk alone would leave them until the daily full pass. Orders Loop itself refused, or held back by a
        /// record Loop refused, are not retried here: retrying would re-send the refused record on every run; they wait
        /// for an edit of the order or the full pass.
        /// </summary>
        private async Task<bool> RetryHeldBackOrdersAsync()
        {
            var dependenciesSent = !_newVariants.IsEmpty || (_counts.TryGetValue(CommerceKinds.Customer, out var customers) && customers.Sent > 0);
            if (_mode == SyncMode.FullPass || !dependenciesSent || BudgetSpent)
            {
                return !BudgetSpent || StopForBudget(CommerceKinds.Order);
            }

            var orders = await MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var held = orders.Values
                .Where(m => m.Outcome == CommerceOutcome.NotSent && !(m.Reason ?? string.Empty).Contains(LoopRefused, StringComparison.Ordinal))
                .Select(m => int.Parse(m.FulfilId, CultureInfo.InvariantCulture))
                .Where(id => !_seenOrders.ContainsKey(id))
                .Order()
                .ToList();
            foreach (var page in held.Chunk(Options.PageSize))
            {
                Interlocked.Add(ref _total, page.Length);
                var items = await PrepareOrdersAsync(page).ConfigureAwait(false);
                Interlocked.Add(ref _done, page.Length - items.Count);
                if (!await ProcessAsync(items).ConfigureAwait(false))
                {
                    return _stoppedByBudget ? StopForBudget(CommerceKinds.Order) : false;
                }
            }

            await FlushAsync().ConfigureAwait(false);
            return true;
        }

        private Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareOrdersFromStampsAsync(IReadOnlyList<FulfilStamp> stamps) =>
            // A changed return order means its original order's refunds (and maybe status) changed.
            PrepareOrdersAsync(stamps.Select(s => s.Ref ?? s.Id).Distinct().ToList());

        /// <summary>One order, pushed now (see <see cref="CommerceSyncJob.PushOrderAsync"/>).</summary>
        public async Task<CommerceOrderPush> PushOrderAsync(int saleId)
        {
            var items = await PrepareOrdersAsync([saleId]).ConfigureAwait(false);
            if (items.Count == 0)
            {
                return new CommerceOrderPush(CommerceOrderPushOutcome.Skipped, $"sale {saleId} is not an order Loop holds");
            }

            var outcome = await items[0](_ct).ConfigureAwait(false);
            var mapping = (await MapAsync(CommerceKinds.Order).ConfigureAwait(false)).GetValueOrDefault(CommerceMapper.ExternalId(saleId));
            return outcome switch
            {
                ItemOutcome.Sent => new CommerceOrderPush(CommerceOrderPushOutcome.Sent, null),
                ItemOutcome.Unchanged => new CommerceOrderPush(CommerceOrderPushOutcome.Unchanged, null),
                ItemOutcome.NotSent => new CommerceOrderPush(CommerceOrderPushOutcome.NotSent, mapping?.Reason),
                ItemOutcome.Failed => new CommerceOrderPush(CommerceOrderPushOutcome.Failed, mapping?.Reason),
                _ => new CommerceOrderPush(CommerceOrderPushOutcome.Skipped, $"sale {saleId} is a draft, or cancelled or out of the return window and never pushed"),
            };
        }

        /// <summary>Reads a page of sales with everything their Loop orders need, in a few batched reads.</summary>
        private async Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareOrdersAsync(IReadOnlyList<int> saleIds)
        {
            var snapshots = (await Fulfil.GetSaleSnapshotsByIdsAsync(saleIds, _ct).ConfigureAwait(false)).Where(s => !s.IsReturn).ToList();
            if (snapshots.Count == 0)
            {
                return [];
            }

            var ids = snapshots.Select(s => s.Sale.Id).ToList();
            foreach (var id in ids)
            {
                _seenOrders.TryAdd(id, 0);
            }

            var returnsTask = Fulfil.GetReturnSalesAsync(ids, _ct);
            var shippedTask = Fulfil.GetOutgoingMovesAsync(snapshots.SelectMany(s => s.Sale.Lines.Select(l => l.Id)).ToList(), _ct);

            var variants = await MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            var productMap = await MapAsync(CommerceKinds.Product).ConfigureAwait(false);
            var customers = await MapAsync(CommerceKinds.Customer).ConfigureAwait(false);
            var missingProducts = snapshots.SelectMany(s => s.Sale.Lines).Where(l => l.ProductId is not null).Select(l => l.ProductId!.Value)
                .Distinct().Where(id => !(variants.TryGetValue(CommerceMapper.ExternalId(id), out var v) && v.LoopId is not null)).ToList();
            var products = missingProducts.Count == 0 ? [] : await Fulfil.GetProductsByIdsAsync(missingProducts, _ct).ConfigureAwait(false);
            var missingTemplates = products.Where(p => p.TemplateId is not null).Select(p => p.TemplateId!.Value).Distinct()
                .Where(id => !(productMap.TryGetValue(CommerceMapper.ExternalId(id), out var m) && m.LoopId is not null)).ToList();
            var templates = missingTemplates.Count == 0 ? [] : await Fulfil.GetProductTemplatesByIdsAsync(missingTemplates, _ct).ConfigureAwait(false);
            var missingParties = snapshots.Where(s => s.Sale.PartyId is not null).Select(s => s.Sale.PartyId!.Value).Distinct()
                .Where(id => !(customers.TryGetValue(CommerceMapper.ExternalId(id), out var c) && c.LoopId is not null)).ToList();
            var parties = missingParties.Count == 0 ? [] : await Fulfil.GetPartiesByIdsAsync(missingParties, _ct).ConfigureAwait(false);
            var deps = new PageDependencies(products.ToDictionary(p => p.Id), templates.ToDictionary(t => t.Id), parties.ToDictionary(p => p.Id));

            var returnSales = await returnsTask.ConfigureAwait(false);
            var returnsByOrigin = returnSales.ToLookup(r => r.OriginSaleId);
            var shipped = await shippedTask.ConfigureAwait(false);
            IReadOnlyDictionary<int, CommerceReturnRefund> refunds = _job._returnRefunds is { } source && returnSales.Count > 0
                ? await source.GetAsync(returnSales, _ct).ConfigureAwait(false)
                : new Dictionary<int, CommerceReturnRefund>();
            return snapshots.Select(s => (Func<CancellationToken, Task<ItemOutcome>>)(token =>
                SyncOrderAsync(s, returnsByOrigin[s.Sale.Id].ToList(), shipped, refunds, deps, token))).ToList();
        }

        private async Task<ItemOutcome> SyncOrderAsync(FulfilSaleSnapshot snapshot, IReadOnlyList<FulfilSaleSnapshot> returns, IReadOnlyList<FulfilOutgoingMove> shipped, IReadOnlyDictionary<int, CommerceReturnRefund> refunds, PageDependencies deps, CancellationToken token)
        {
            var sale = snapshot.Sale;
            var id = CommerceMapper.ExternalId(sale.Id);
            var orders = await MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var known = orders.TryGetValue(id, out var existing) && existing.LoopId is not null;
            if (sale.State is "draft" or "quotation")
            {
                return Skip(CommerceKinds.Order);
            }

            var status = CommerceMapper.Status(sale, CommerceMapper.ReturnedByLine(returns), _windowStart);

            // Loop never needs to learn about an order nobody can return: cancelled, or already outside the window.
            if (!known && (status == LoopOrderStatus.Cancelled || sale.SaleDate < _windowStart))
            {
                return Skip(CommerceKinds.Order);
            }

            var refs = new Dictionary<int, CommerceMapper.LineRefs>();
            foreach (var line in sale.Lines.Where(l => l.ProductId is not null).OrderBy(l => l.Id))
            {
                var resolved = await EnsureVariantAsync(line.ProductId!.Value, deps, token).ConfigureAwait(false);
                if (resolved.Transient)
                {
                    Count(CommerceKinds.Order, ItemOutcome.Failed);
                    return ItemOutcome.Failed;
                }

                if (!resolved.Ok || resolved.ParentLoopId is null)
                {
                    return await NotSentAsync(CommerceKinds.Order, id, $"line {line.Id} (product {line.ProductId}) has no product in Loop: {resolved.Reason}").ConfigureAwait(false);
                }

                refs[line.Id] = new CommerceMapper.LineRefs(resolved.ParentLoopId, resolved.LoopId!);
            }

            if (refs.Count == 0)
            {
                return await NotSentAsync(CommerceKinds.Order, id, "no line has a product").ConfigureAwait(false);
            }

            string? customerLoopId = null;
            if (sale.PartyId is { } partyId)
            {
                var customer = await EnsureCustomerAsync(partyId, deps, token).ConfigureAwait(false);
                if (customer.Transient)
                {
                    Count(CommerceKinds.Order, ItemOutcome.Failed);
                    return ItemOutcome.Failed;
                }

                if (!customer.Ok)
                {
                    return await NotSentAsync(CommerceKinds.Order, id, $"customer {partyId} is not in Loop: {customer.Reason}").ConfigureAwait(false);
                }

                customerLoopId = customer.LoopId;
            }

            var locations = await MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var locationLoopId = sale.WarehouseId is { } wh ? locations.GetValueOrDefault(CommerceMapper.ExternalId(wh))?.LoopId : null;
            var body = CommerceMapper.Order(snapshot, status, refs, customerLoopId, locationLoopId, shipped, returns, Options.Channel, _currency, refunds);
            var statusText = status.ToString().ToLowerInvariant();
            var saleDate = sale.SaleDate is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : (DateTimeOffset?)null;
            return (await SendAsync(
                CommerceKinds.Order,
                id,
                body,
                async (b, t) => (await Loop.UpsertOrderAsync(b, t).ConfigureAwait(false)).Id,
                token,
                decorate: m => m with { Status = statusText, SaleDate = saleDate }).ConfigureAwait(false)).Outcome;
        }

        /// <summary>
        /// Full pass: orders Loop holds as returnable that the walk over the return window did not meet (they left the
        /// window, or were dated out of it) are read again and sent archived.
        /// </summary>
        private async Task<bool> ArchiveAsync()
        {
            _phase = "archive";
            if (BudgetSpent)
            {
                return StopForBudget("archive");
            }

            var orders = await MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var due = orders.Values
                .Where(m => m is { Outcome: CommerceOutcome.Sent, LoopId: not null } && m.Status is not ("archived" or "cancelled"))
                .Select(m => (Id: int.Parse(m.FulfilId, CultureInfo.InvariantCulture), m.SaleDate))
                .Where(m => !_seenOrders.ContainsKey(m.Id) || (m.SaleDate is { } d && DateOnly.FromDateTime(d.UtcDateTime) < _windowStart))
                .Select(m => m.Id)
                .Order()
                .ToList();
            Interlocked.Add(ref _total, due.Count);
            foreach (var chunk in due.Chunk(Options.PageSize))
            {
                if (BudgetSpent)
                {
                    return StopForBudget("archive");
                }

                if (!await ProcessAsync(await PrepareOrdersAsync(chunk).ConfigureAwait(false)).ConfigureAwait(false))
                {
                    return _stoppedByBudget ? StopForBudget("archive") : false;
                }
            }

            return true;
        }

        // ------------------------------------------------------------------ inventory

        /// <summary>
        /// Sellable counts per variant and warehouse. Incremental runs recount the variants whose stock moved since the
        /// watermark (and variants new to Loop); backfills and full passes recount every mapped variant.
        /// </summary>
        private async Task<bool> InventoryAsync()
        {
            const string name = CommerceKinds.Inventory;
            _phase = name;
            if (BudgetSpent)
            {
                return StopForBudget(name);
            }

            var checkpoint = await Store.GetCheckpointAsync(_stream, name, _ct).ConfigureAwait(false);
            if (_stream == FullPassStream && checkpoint is { Finished: true })
            {
                return true;
            }

            var variants = await MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            var recountAll = _stream == FullPassStream || checkpoint?.Cursor is null;
            HashSet<int> productIds;
            FulfilCursor? newCursor;
            FulfilCursor? newCreatedCursor;
            if (recountAll)
            {
                productIds = variants.Values.Where(v => v.LoopId is not null).Select(v => int.Parse(v.FulfilId, CultureInfo.InvariantCulture)).ToHashSet();
                newCursor = newCreatedCursor = new FulfilCursor((_startedAt - Options.InventoryWatermarkOverlap).UtcDateTime, 0);
            }
            else
            {
                productIds = [.. _newVariants.Keys];
                // A move created straight into its final state is never written again, so its write_date stays empty:
                // moves are scanned by create date (never edited) and by write date (edited), each from its own cursor.
                var created = await Store.GetCheckpointAsync(_stream, CreatedWalk(name), _ct).ConfigureAwait(false);
                newCreatedCursor = await ScanMovesAsync(created?.Cursor ?? checkpoint!.Cursor, FulfilStampField.CreateDate).ConfigureAwait(false);
                newCursor = await ScanMovesAsync(checkpoint!.Cursor, FulfilStampField.WriteDate).ConfigureAwait(false);
            }

            async Task<FulfilCursor?> ScanMovesAsync(FulfilCursor? cursor, FulfilStampField stamp)
            {
                while (true)
                {
                    var stamps = await Fulfil.GetModifiedAsync(new FulfilModifiedQuery("stock.move", cursor, Options.PageSize, null, "product", stamp), _ct).ConfigureAwait(false);
                    foreach (var s in stamps)
                    {
                        if (s.Ref is { } product && variants.TryGetValue(CommerceMapper.ExternalId(product), out var v) && v.LoopId is not null)
                        {
                            productIds.Add(product);
                        }
                    }

                    if (stamps.Count > 0)
                    {
                        cursor = new FulfilCursor(stamps[^1].WriteDate, stamps[^1].Id);
                    }

                    if (stamps.Count < Options.PageSize)
                    {
                        return cursor;
                    }
                }
            }

            var locationMap = await MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var warehouses = _locations
                .Where(l => l.Type == "warehouse" && l.Active && locationMap.TryGetValue(CommerceMapper.ExternalId(l.Id), out var m) && m.LoopId is not null)
                .Select(l => (Warehouse: l, LoopId: locationMap[CommerceMapper.ExternalId(l.Id)].LoopId!, Sellable: SellableRoots(l)))
                .ToList();
            var ordered = productIds.Order().ToList();
            Interlocked.Add(ref _total, (long)ordered.Count * warehouses.Count);
            if (warehouses.Count > 0)
            {
                var chunks = ordered.Chunk(Options.PageSize).ToList();
                var next = chunks.Count > 0 ? PrepareInventoryAsync(chunks[0], warehouses, variants) : null;
                for (var i = 0; i < chunks.Count; i++)
                {
                    var items = await next!.ConfigureAwait(false);
                    next = i + 1 < chunks.Count ? PrepareInventoryAsync(chunks[i + 1], warehouses, variants) : null;
                    if (!await ProcessAsync(items).ConfigureAwait(false))
                    {
                        if (next is not null)
                        {
                            Forget(next);
                        }

                        return _stoppedByBudget ? StopForBudget(name) : false;
                    }

                    if (BudgetSpent && next is not null)
                    {
                        Forget(next);
                        return StopForBudget(name);
                    }
                }
            }

            await FlushAsync().ConfigureAwait(false);
            await Store.SaveCheckpointAsync(_stream, CreatedWalk(name), new CommerceCheckpoint(newCreatedCursor, true, _job._time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            await Store.SaveCheckpointAsync(_stream, name, new CommerceCheckpoint(newCursor, true, _job._time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            return true;
        }

        private async Task<List<Func<CancellationToken, Task<ItemOutcome>>>> PrepareInventoryAsync(
            int[] productIds,
            IReadOnlyList<(FulfilLocationNode Warehouse, string LoopId, (int Storage, IReadOnlyList<int> Excluded) Sellable)> warehouses,
            ConcurrentDictionary<string, CommerceMapping> variants)
        {
            var items = new List<Func<CancellationToken, Task<ItemOutcome>>>();
            foreach (var (warehouse, locationLoopId, (storage, excluded)) in warehouses)
            {
                var levels = await Fulfil.GetStockAsync(productIds, [storage, .. excluded], _ct).ConfigureAwait(false);
                var byProduct = levels.ToLookup(l => l.ProductId);
                foreach (var productId in productIds)
                {
                    var variantLoopId = variants.GetValueOrDefault(CommerceMapper.ExternalId(productId))?.LoopId;
                    if (variantLoopId is null)
                    {
                        continue;
                    }

                    // Quarantined and damaged units are never offered for exchange, even when they sit inside the sellable tree.
                    var rows = byProduct[productId].ToList();
                    var sellable = rows.Where(r => r.LocationId == storage).Sum(r => r.Quantity) - rows.Where(r => excluded.Contains(r.LocationId)).Sum(r => r.Quantity);
                    var count = (long)decimal.Floor(Math.Max(0m, sellable));
                    var key = CommerceMapper.ExternalId(productId) + ":" + CommerceMapper.ExternalId(warehouse.Id);
                    var body = new InventoryBody(variantLoopId, locationLoopId, count);
                    items.Add(async token => (await SendAsync(
                        CommerceKinds.Inventory,
                        key,
                        body,
                        async (b, t) =>
                        {
                            await Loop.SetInventoryAsync(b.VariantId, b.LocationId, b.AvailableCount, t).ConfigureAwait(false);
                            return b.VariantId + "/" + b.LocationId;
                        },
                        token).ConfigureAwait(false)).Outcome);
                }
            }

            return items;
        }

        /// <summary>
        /// The warehouse's sellable root (its storage location) and the non-sellable roots inside it: quarantine,
        /// damaged and lost-and-found locations, outermost only so nothing is subtracted twice.
        /// </summary>
        private (int Storage, IReadOnlyList<int> Excluded) SellableRoots(FulfilLocationNode warehouse)
        {
            var storage = warehouse.StorageLocationId ?? warehouse.Id;
            var parents = _locations.ToDictionary(l => l.Id, l => l.ParentId);
            var codes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { _job._fulfilOptions.QuarantineLocationCode, _job._fulfilOptions.DamagedLocationCode };
            bool Within(int id, int root)
            {
                for (int? at = id; at is { } current; at = parents.GetValueOrDefault(current))
                {
                    if (current == root)
                    {
                        return true;
                    }
                }

                return false;
            }

            var candidates = _locations
                .Where(l => l.Id != storage && (codes.Contains(l.Code) || l.Type == "lost_found") && Within(l.Id, storage))
                .Select(l => l.Id)
                .ToList();
            return (storage, candidates.Where(c => !candidates.Any(o => o != c && Within(c, o))).ToList());
        }

        // ------------------------------------------------------------------ progress

        public void Report(string? phase = null, bool force = false)
        {
            var now = _job._time.GetTimestamp();
            var elapsed = _job._time.GetElapsedTime(_startTimestamp);
            var ticksPerSecond = _job._time.TimestampFrequency;
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
            var p = new SyncProgress(_mode, phase ?? _phase, done, total, writes, writes / seconds, elapsed, eta);
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
