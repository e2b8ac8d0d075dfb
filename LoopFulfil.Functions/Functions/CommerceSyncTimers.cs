using LoopFulfil.Core.CommerceSync;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>
/// Fulfil → Loop commerce data push. Timer triggers run on one instance at a time (the host's singleton lock), so the
/// runs never overlap; each run stops at <c>CommerceSync__RunBudget</c> (below the 10-minute Consumption limit) and the
/// next one continues from its checkpoints.
/// </summary>
public sealed class CommerceSyncTimers
{
    private readonly CommerceSyncJob job;

    public CommerceSyncTimers(CommerceSyncJob job) => this.job = job;

    /// <summary>
    /// On <see cref="Schedules.CommerceSyncIncremental"/> (default every 15 minutes): pushes what changed in Fulfil since
    /// the watermarks, and carries an unfinished backfill forward.
    /// </summary>
    [Function("CommerceSyncIncremental")]
    public Task RunIncremental([TimerTrigger(Schedules.CommerceSyncIncremental)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return job.RunAsync(SyncMode.Incremental, progress: null, context.CancellationToken);
    }

    /// <summary>
    /// On <see cref="Schedules.CommerceSyncFullPass"/> (default 03:00 UTC): walks every mapping again to catch what the
    /// incremental runs missed, recounts sellable inventory and archives orders that left the return window.
    /// </summary>
    [Function("CommerceSyncFullPass")]
    public Task RunFullPass([TimerTrigger(Schedules.CommerceSyncFullPass)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return job.RunAsync(SyncMode.FullPass, progress: null, context.CancellationToken);
    }
}
