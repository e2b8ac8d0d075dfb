using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// The serve host's wiring of features merged after the returns pipeline. Each feature is one call here: its
/// <c>AddLoopFulfilXxx</c>, its queue handler and its timers, with the same settings the Functions app reads.
/// </summary>
internal static class OutcomeWiring
{
    /// <summary>Whether the outcome stages (inspection, refunds, exchanges) are in this build; the demo and routes check it.</summary>
    public static bool OutcomesAvailable => false;

    /// <summary>Whether the commerce sync (<c>CommerceSyncJob</c>) is in this build.</summary>
    public static bool CommerceSyncAvailable => false;

    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Outcomes (branch "outcomes") adds, once merged:
        //   services.AddLoopFulfilOutcomes(configuration);
        //   services.AddLoopFulfilQueueHandler(QueueNames.LoopExchanges, (sp, m, ct) => sp.GetRequiredService<ExchangeOrderHandler>().HandleAsync(m, ct));
        //   services.AddLoopFulfilTimerJob("scheduled-posting", <its schedule setting>, (sp, ct) => sp.GetRequiredService<ScheduledPostingJob>().RunAsync(ct));
        // Commerce sync (branch "sync") adds:
        //   services.AddLoopFulfilCommerceSync(configuration) and two timers on CommerceSync:IncrementalSchedule / FullPassSchedule.
    }
}
