using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.LocalHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// The serve host's wiring of the features after the returns pipeline, each with its queue consumer and timers on
/// the same settings the Functions app reads.
/// </summary>
internal static class OutcomeWiring
{
    /// <summary>Timer job name of the scheduled refund posting (Refunds:PostingSchedule).</summary>
    public const string ScheduledPostingJobName = "scheduled-posting";

    public const string CommerceSyncIncrementalJob = "commerce-sync";

    public const string CommerceSyncFullPassJob = "commerce-sync-full";

    public const string ReconciliationJobName = "reconciliation";

    public const string CatchUpJobName = "catch-up";

    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Outcomes (registered by the composition root): exchange orders and scheduled refund posting.
        services.AddLoopFulfilQueueHandler(QueueNames.LoopExchanges, static (sp, message, ct) =>
            sp.GetRequiredService<ExchangeOrderHandler>().HandleAsync(message, ct));

        // Realtime posting leaves nothing pending, so the job is cheap to run on the schedule whatever the mode.
        services.AddLoopFulfilTimerJob(
            ScheduledPostingJobName,
            ServeComposition.Schedule(configuration, "RefundsPostingSchedule", $"{RefundsOptions.Section}:{nameof(RefundsOptions.PostingSchedule)}", new RefundsOptions().PostingSchedule),
            static async (sp, ct) => await sp.GetRequiredService<ScheduledPostingJob>().RunAsync(ct).ConfigureAwait(false));

        // Commerce sync (registered by the composition root): the Functions app's two timers, same settings.
        services.AddLoopFulfilTimerJob(
            CommerceSyncIncrementalJob,
            ServeComposition.Schedule(configuration, "CommerceSyncIncrementalSchedule", $"{CommerceSyncOptions.Section}:{nameof(CommerceSyncOptions.IncrementalSchedule)}", new CommerceSyncOptions().IncrementalSchedule),
            static async (sp, ct) => await sp.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.Incremental, null, ct).ConfigureAwait(false));
        services.AddLoopFulfilTimerJob(
            CommerceSyncFullPassJob,
            ServeComposition.Schedule(configuration, "CommerceSyncFullPassSchedule", $"{CommerceSyncOptions.Section}:{nameof(CommerceSyncOptions.FullPassSchedule)}", new CommerceSyncOptions().FullPassSchedule),
            static async (sp, ct) => await sp.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.FullPass, null, ct).ConfigureAwait(false));

        // Daily reconciliation of the previous UTC day (registered by the composition root), same settings.
        services.AddLoopFulfilTimerJob(
            ReconciliationJobName,
            ServeComposition.Schedule(configuration, "ReconciliationSchedule", $"{ReconciliationOptions.Section}:{nameof(ReconciliationOptions.Schedule)}", new ReconciliationOptions().Schedule),
            static async (sp, ct) => await sp.GetRequiredService<ReconciliationJob>().RunScheduledAsync(ct).ConfigureAwait(false));

        // Catch-up sweep (registered by the composition root), same settings; also on start, so a host that was down
        // covers the gap from its watermark at once.
        services.AddLoopFulfilTimerJob(
            CatchUpJobName,
            ServeComposition.Schedule(configuration, "CatchUpSchedule", $"{CatchUpOptions.Section}:{nameof(CatchUpOptions.Schedule)}", new CatchUpOptions().Schedule),
            static async (sp, ct) => await sp.GetRequiredService<CatchUpSweep>().RunAsync(ct).ConfigureAwait(false),
            runOnStartup: true);
    }
}
