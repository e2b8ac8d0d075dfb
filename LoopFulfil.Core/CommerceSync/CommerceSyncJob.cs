using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.WriteBack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.CommerceSync;

/// <summary>
/// Pushes Fulfil's catalogue, customers, warehouses, sellable stock and recent orders to Loop's Commerce Data APIs, so
/// Loop accepts returns for orders it knows and offers exchanges only from stock that can really ship.
/// One entry point for the timers and the CLI: <see cref="RunAsync"/>.
/// </summary>
/// <remarks>
/// Order of work: locations, products (templates), variants, customers, orders (each line needs its product and
/// variant in Loop first, and they are pushed on demand when missing), inventory, and in a full pass the archiving of
/// orders that left the return window. Each entity is walked by (write_date, id) from a checkpoint written after
/// every page, so a run stopped by <see cref="CommerceSyncOptions.RunBudget"/> continues where it stopped; every push
/// is recorded with a content hash, so records seen again cost no Loop call unless they changed.
/// The walk engine (cursors, checkpoints, budget, batched mapping writes, counters) is <c>Run</c>
/// (CommerceSyncJob.Run.cs, .Writes.cs, .Progress.cs); each kind is one stream file (.Products.cs, .Variants.cs,
/// .Customers.cs, .Orders.cs, .Inventory.cs); what is read from Fulfil is asked through
/// <see cref="FulfilCommerceQueries"/>, so no Tryton model or domain appears here.
/// </remarks>
public sealed partial class CommerceSyncJob : ILoopOrderPusher
{
    internal const string MainStream = "main";
    internal const string FullPassStream = "fullpass";

    private readonly IFulfilClient _fulfil;
    private readonly FulfilCommerceQueries _queries;
    private readonly ILoopClient _loop;
    private readonly CommerceMappingStore _store;
    private readonly CommerceSyncOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ExceptionService? _exceptions;
    private readonly ICommerceReturnRefunds? _returnRefunds;

    /// <summary>Source of the exception records this job raises.</summary>
    internal const string ExceptionSource = "commerce-sync";

    public CommerceSyncJob(
        IFulfilClient fulfil,
        ILoopClient loop,
        CommerceMappingStore store,
        IOptions<CommerceSyncOptions> options,
        IOptions<FulfilOptions> fulfilOptions,
        TimeProvider time,
        ILogger<CommerceSyncJob>? logger = null,
        IEnumerable<ICommerceReturnRefunds>? returnRefunds = null,
        ExceptionService? exceptions = null)
    {
        ArgumentNullException.ThrowIfNull(fulfil);
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(fulfilOptions);
        _fulfil = fulfil;
        _loop = loop;
        _store = store;
        _options = options.Value;
        _queries = new FulfilCommerceQueries(fulfil, fulfilOptions.Value);
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _exceptions = exceptions;
        _returnRefunds = returnRefunds?.FirstOrDefault();
    }

    /// <summary>
    /// Pushes one sale's order to Loop now, through the same mapping, content hash and mapping records as the timed
    /// runs (so the next run sends nothing if nothing else changed). Used by write-back once a refund is posted.
    /// </summary>
    public async Task<CommerceOrderPush> PushOrderAsync(int saleId, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return new CommerceOrderPush(CommerceOrderPushOutcome.Disabled, "CommerceSync:Enabled is false");
        }

        await _store.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var run = new Run(this, SyncMode.Incremental, MainStream, null, cancellationToken);
        try
        {
            return await run.Orders.PushAsync(saleId).ConfigureAwait(false);
        }
        finally
        {
            await run.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs one pass in <paramref name="mode"/> until everything is pushed or <see cref="CommerceSyncOptions.RunBudget"/>
    /// is spent (then the result says <see cref="CommerceSyncResult.StoppedByBudget"/> and the next run continues).
    /// Throws on authentication failures and storage outages; per-record Loop or Fulfil failures are recorded and counted.
    /// </summary>
    public async Task<CommerceSyncResult> RunAsync(SyncMode mode, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            LogDisabled(_logger, mode);
            return new CommerceSyncResult(mode, Completed: false, StoppedByBudget: false, [], 0, TimeSpan.Zero);
        }

        await _store.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var stream = mode == SyncMode.FullPass ? FullPassStream : MainStream;
        var marker = mode == SyncMode.FullPass ? "run" : "backfill";
        if (mode != SyncMode.Incremental)
        {
            var state = await _store.GetCheckpointAsync(stream, marker, cancellationToken).ConfigureAwait(false);
            if (state is null || state.Finished)
            {
                // A new backfill (or full pass) walks everything from the beginning; an unfinished one resumes.
                await _store.ResetStreamAsync(stream, cancellationToken).ConfigureAwait(false);
                await _store.SaveCheckpointAsync(stream, marker, new CommerceCheckpoint(null, false, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
                LogStarting(_logger, mode, "from the beginning");
            }
            else
            {
                LogStarting(_logger, mode, "resuming from checkpoints");
            }
        }
        else
        {
            LogStarting(_logger, mode, "from watermarks");
        }

        var run = new Run(this, mode, stream, progress, cancellationToken);
        bool completed;
        try
        {
            completed = await ExecuteAsync(run).ConfigureAwait(false);
        }
        finally
        {
            await run.FlushAsync().ConfigureAwait(false);
        }

        if (completed && mode != SyncMode.Incremental)
        {
            await _store.SaveCheckpointAsync(stream, marker, new CommerceCheckpoint(null, true, _time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
        }
        else if (completed)
        {
            // An incremental run that drained every walk also finishes a backfill that timers were carrying on.
            var state = await _store.GetCheckpointAsync(MainStream, "backfill", cancellationToken).ConfigureAwait(false);
            if (state is { Finished: false })
            {
                await _store.SaveCheckpointAsync(MainStream, "backfill", new CommerceCheckpoint(null, true, _time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            }
        }

        var result = run.Result(completed);
        run.Report("done", force: true);
        LogFinished(_logger, mode, result.Completed, result.StoppedByBudget, result.Sent, result.Failed, result.LoopWrites, result.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>
    /// The streams in dependency order: warehouses, products, variants, customers, orders (and the orders held back
    /// by a dependency), inventory, and in a full pass the archiving. False when a walk stopped early.
    /// </summary>
    private static async Task<bool> ExecuteAsync(Run run)
    {
        var complete = await run.Inventory.WarehousesAsync().ConfigureAwait(false);
        complete &= await run.WalkAsync(CommerceKinds.Product, FulfilCommerceSet.ProductTemplates, run.Products.PrepareAsync).ConfigureAwait(false);
        complete &= await run.WalkAsync(CommerceKinds.Variant, FulfilCommerceSet.Variants, run.Variants.PrepareAsync).ConfigureAwait(false);
        complete &= await run.WalkAsync(CommerceKinds.Customer, FulfilCommerceSet.Parties, run.Customers.PrepareAsync).ConfigureAwait(false);
        complete &= await run.WalkAsync(CommerceKinds.Order, FulfilCommerceSet.Sales, run.Orders.PrepareFromStampsAsync).ConfigureAwait(false);
        complete &= await run.Orders.RetryHeldBackAsync().ConfigureAwait(false);
        complete &= await run.Inventory.StockAsync().ConfigureAwait(false);
        if (run.Mode == SyncMode.FullPass)
        {
            complete &= await run.Orders.ArchiveAsync().ConfigureAwait(false);
        }

        return complete && !run.StoppedByBudget;
    }

    /// <summary>Whether a backfill has been started and not yet finished (the CLI shows it; timers keep it going).</summary>
    public async Task<bool> IsBackfillPendingAsync(CancellationToken cancellationToken)
    {
        await _store.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var state = await _store.GetCheckpointAsync(MainStream, "backfill", cancellationToken).ConfigureAwait(false);
        return state is { Finished: false };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Commerce sync {Mode} is disabled (CommerceSync:Enabled=false)")]
    private static partial void LogDisabled(ILogger logger, SyncMode mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commerce sync {Mode} starting {How}")]
    private static partial void LogStarting(ILogger logger, SyncMode mode, string how);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commerce sync {Mode} finished: completed={Completed} stoppedByBudget={Stopped} sent={Sent} failed={Failed} loopWrites={LoopWrites} in {Seconds:0.0}s")]
    private static partial void LogFinished(ILogger logger, SyncMode mode, bool completed, bool stopped, int sent, int failed, long loopWrites, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commerce sync {Mode} {Phase}: {Done}/{Total} records, {LoopWrites} Loop writes at {Rate:0.0}/s, ETA {Eta}")]
    private static partial void LogProgress(ILogger logger, SyncMode mode, string phase, long done, long total, long loopWrites, double rate, TimeSpan? eta);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commerce sync: {Kind} {FulfilId} not sent: {Reason}")]
    private static partial void LogNotSent(ILogger logger, string kind, string fulfilId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commerce sync: {Kind} {FulfilId} failed transiently and will be retried: {Error}")]
    private static partial void LogTransient(ILogger logger, string kind, string fulfilId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commerce sync {Mode}: {Walk} stopped at its budget; the next run continues from its checkpoint")]
    private static partial void LogBudget(ILogger logger, SyncMode mode, string walk);
}
