using LoopFulfil.Core.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>
/// The timers of <see cref="EntryPoints.Timers"/>: each binds its flat schedule setting (<see cref="Schedules"/>) and
/// runs the list's job in the invocation's scope; serve schedules the same jobs from the same settings. The host runs
/// a timer on one instance at a time, and a past-due one on start.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Instance methods: the Functions host's indexing and invocation of function classes, as every other function here.")]
public sealed class TimerFunctions
{
    /// <summary><see cref="Core.Exceptions.SkuExceptionRechecker"/>: replays SKU exceptions whose SKUs now exist.</summary>
    [Function("SkuRecheck")]
    public Task SkuRecheck([TimerTrigger(Schedules.SkuRecheck)] TimerInfo timer, FunctionContext context) => RunAsync("SkuRecheck", context);

    /// <summary><see cref="Core.Reconciliation.ReconciliationJob"/>: reconciles the previous UTC day.</summary>
    [Function("Reconciliation")]
    public Task Reconciliation([TimerTrigger(Schedules.Reconciliation)] TimerInfo timer, FunctionContext context) => RunAsync("Reconciliation", context);

    /// <summary><see cref="Core.Refunds.ScheduledPostingJob"/>: posts pending documents in Scheduled mode (a no-op in realtime).</summary>
    [Function("RefundsPosting")]
    public Task RefundsPosting([TimerTrigger(Schedules.RefundsPosting)] TimerInfo timer, FunctionContext context) => RunAsync("RefundsPosting", context);

    /// <summary><see cref="Core.CommerceSync.CommerceSyncJob"/>, incremental: what changed since the watermarks.</summary>
    [Function("CommerceSyncIncremental")]
    public Task CommerceSyncIncremental([TimerTrigger(Schedules.CommerceSyncIncremental)] TimerInfo timer, FunctionContext context) => RunAsync("CommerceSyncIncremental", context);

    /// <summary><see cref="Core.CommerceSync.CommerceSyncJob"/>, full pass: every mapping again.</summary>
    [Function("CommerceSyncFullPass")]
    public Task CommerceSyncFullPass([TimerTrigger(Schedules.CommerceSyncFullPass)] TimerInfo timer, FunctionContext context) => RunAsync("CommerceSyncFullPass", context);

    /// <summary><see cref="Core.CatchUp.CatchUpSweep"/>: Loop returns updated since the last sweep whose snapshot is older.</summary>
    [Function("CatchUp")]
    public Task CatchUp([TimerTrigger(Schedules.CatchUp)] TimerInfo timer, FunctionContext context) => RunAsync("CatchUp", context);

    /// <summary><see cref="Core.Privacy.RetentionJob"/>: prunes claim-checked bodies and reduces settled payloads.</summary>
    [Function("PrivacyRetention")]
    public Task PrivacyRetention([TimerTrigger(Schedules.PrivacyRetention)] TimerInfo timer, FunctionContext context) => RunAsync("PrivacyRetention", context);

    private static Task RunAsync(string function, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return EntryPoints.Timer(function).Run(context.InstanceServices, context.CancellationToken);
    }
}
