namespace LoopFulfil.Core.CommerceSync;

/// <summary>
/// The commerce data push (Fulfil → Loop), bound from section <c>CommerceSync</c> (environment <c>CommerceSync__RunBudget</c>, …).
/// </summary>
public sealed class CommerceSyncOptions
{
    public const string Section = "CommerceSync";

    /// <summary>False stops the timers from pushing anything (RunAsync returns at once).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sales dated within this many days are pushed; older synced orders are archived in Loop by the full pass.</summary>
    public int ReturnWindowDays { get; set; } = 90;

    /// <summary>Records processed at once. Enough to keep Loop's rate limit busy; the Loop client's limiter does the pacing.</summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>
    /// Wall-clock budget of one run. Consumption plans stop a function at 10 minutes, so a run stops taking work at
    /// 9 and the next run continues from the last checkpoint.
    /// </summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(9);

    /// <summary>
    /// Loop writes one run may make before it stops taking work (0 = no limit). A budget counted in work: it caps a
    /// run's share of Loop's rate limit whatever the machine's speed, and makes a stopped-and-resumed run reproducible.
    /// </summary>
    public int RunWriteBudget { get; set; }

    /// <summary>Six-field NCRONTAB schedule of the incremental run (seconds first).</summary>
    public string IncrementalSchedule { get; set; } = "0 */15 * * * *";

    /// <summary>Six-field NCRONTAB schedule of the daily full pass.</summary>
    public string FullPassSchedule { get; set; } = "0 0 3 * * *";

    /// <summary>Records per Fulfil page (one keyset page, then batched reads by id list). A checkpoint is written per page.</summary>
    public int PageSize { get; set; } = 200;

    /// <summary>Table holding id mappings and checkpoints.</summary>
    public string TableName { get; set; } = "commercemap";

    /// <summary>Loop <c>channel</c> given to products, customers, orders and locations.</summary>
    public string Channel { get; set; } = "fulfil";

    /// <summary>ISO 4217 currency of the Fulfil company (prices are converted to its minor units for Loop).</summary>
    public string CurrencyCode { get; set; } = "USD";

    /// <summary>Address sent for warehouses (Loop requires one on a location; Fulfil warehouse addresses are not read).</summary>
    public string WarehouseAddress1 { get; set; } = "";

    public string WarehouseCity { get; set; } = "";

    public string WarehouseRegion { get; set; } = "";

    public string WarehousePostalCode { get; set; } = "";

    public string WarehouseCountryCode { get; set; } = "US";

    /// <summary>
    /// Overlap when the inventory watermark is set after a full recount: moves written this long before the recount
    /// started are checked again, so a clock difference between Fulfil and this host loses nothing.
    /// </summary>
    public TimeSpan InventoryWatermarkOverlap { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>What a <see cref="CommerceSyncJob"/> run does.</summary>
public enum SyncMode
{
    /// <summary>Records written since the per-entity watermarks (continues an unfinished backfill).</summary>
    Incremental,

    /// <summary>Starts a backfill from the beginning, or resumes the one in progress.</summary>
    Backfill,

    /// <summary>Walks every source record again without moving the watermarks, recounts inventory and archives orders out of the return window.</summary>
    FullPass,
}

/// <summary>Progress of a run: records examined of those known, Loop request rate and estimated time left.</summary>
/// <param name="Mode">The run's mode.</param>
/// <param name="Phase">Entity being pushed (locations, products, variants, customers, orders, inventory, archive).</param>
/// <param name="Done">Records examined so far (sent, unchanged, not sent or failed).</param>
/// <param name="Total">Records known to be due; grows as phases start.</param>
/// <param name="LoopWrites">Loop requests made so far.</param>
/// <param name="LoopRequestsPerSecond">Average Loop request rate since the run started.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="EstimatedRemaining">Time left at the current record rate, when it can be estimated.</param>
public sealed record SyncProgress(SyncMode Mode, string Phase, long Done, long Total, long LoopWrites, double LoopRequestsPerSecond, TimeSpan Elapsed, TimeSpan? EstimatedRemaining);

/// <summary>Counts of one entity (a <see cref="CommerceKinds"/> value) in a run.</summary>
/// <param name="Sent">Accepted by Loop (one Loop write each).</param>
/// <param name="Unchanged">Same content as Loop already holds: no Loop call.</param>
/// <param name="NotSent">Deliberately not sent or refused by Loop for good; the reason is in the mapping.</param>
/// <param name="Failed">Failed transiently; retried by a later run.</param>
/// <param name="Skipped">Out of scope (e.g. an archived product nobody ordered, a cancelled order Loop never had).</param>
public sealed record CommerceEntityCounts(string Entity, int Sent, int Unchanged, int NotSent, int Failed, int Skipped);

/// <summary>The outcome of <see cref="CommerceSyncJob.RunAsync"/>.</summary>
/// <param name="Completed">Every entity reached the end of its walk (a backfill or full pass is then finished).</param>
/// <param name="StoppedByBudget">The run stopped taking work at <see cref="CommerceSyncOptions.RunBudget"/>; the next run continues.</param>
public sealed record CommerceSyncResult(SyncMode Mode, bool Completed, bool StoppedByBudget, IReadOnlyList<CommerceEntityCounts> Entities, long LoopWrites, TimeSpan Elapsed)
{
    /// <summary>Records sent to Loop across entities.</summary>
    public int Sent => Entities.Sum(e => e.Sent);

    /// <summary>Records that failed with an error retrying may fix (retried by the next run).</summary>
    public int Failed => Entities.Sum(e => e.Failed);
}
