using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Returns;
using LoopFulfil.LocalHost;
using LoopFulfil.LocalHost.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// How <c>loopfulfil serve</c> composes Core: the shared composition root, then the single-machine stand-ins for what
/// Azure provides (Service Bus → Azurite queues with <see cref="QueueDispatcher"/>s, timer triggers →
/// <c>TimerScheduler</c>). Every queue and timer calls the same Core entry point as the matching Function.
/// </summary>
internal static class ServeComposition
{
    /// <summary>Timer job name of the SKU exception recheck (the Functions app's timer of the same schedule).</summary>
    public const string SkuRecheckJob = "sku-recheck";

    /// <summary>Timer job name of the privacy retention (payload reduction and claim-check pruning; the Functions app's PrivacyRetention).</summary>
    public const string PrivacyRetentionJob = "privacy-retention";

    public static IServiceCollection AddLoopFulfilServe(this IServiceCollection services, IConfiguration configuration)
    {
        // Every feature comes from the composition root the Functions app uses; this host adds only its transport.
        services.AddLoopFulfil(configuration);

        services.AddLoopFulfilLocalHost(configuration);
        // Poisoned messages become replayable DeadLettered exception records (the same recorder as the Functions' dead-letter triggers).
        services.AddSingleton<IPoisonMessageSink, DeadLetterPoisonSink>();

        services.AddLoopFulfilQueueHandler(QueueNames.LoopReturns, static (sp, message, ct) =>
            sp.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct));
        services.AddLoopFulfilQueueHandler(QueueNames.Exceptions, static (sp, message, ct) =>
            sp.GetRequiredService<ExceptionAlertHandler>().HandleAsync(message, ct));

        services.AddLoopFulfilTimerJob(
            SkuRecheckJob,
            Schedule(configuration, "SkuRecheckSchedule", $"{ExceptionOptions.Section}:{nameof(ExceptionOptions.SkuRecheckSchedule)}", new ExceptionOptions().SkuRecheckSchedule),
            static async (sp, ct) => await sp.GetRequiredService<SkuExceptionRechecker>().RunAsync(ct).ConfigureAwait(false));

        services.AddLoopFulfilTimerJob(
            PrivacyRetentionJob,
            Schedule(configuration, "PrivacyRetentionSchedule", $"{PrivacyOptions.Section}:{nameof(PrivacyOptions.RetentionSchedule)}", new PrivacyOptions().RetentionSchedule),
            static async (sp, ct) => await sp.GetRequiredService<RetentionJob>().RunAsync(ct).ConfigureAwait(false));

        OutcomeWiring.Add(services, configuration);
        return services;
    }

    /// <summary>
    /// The six-field NCRONTAB schedule a Functions timer reads: the flat app setting its trigger binds
    /// (<c>%SkuRecheckSchedule%</c>), else the options key, else the default.
    /// </summary>
    public static string Schedule(IConfiguration configuration, string? flatKey, string key, string fallback)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var candidate in new[] { flatKey, key })
        {
            if (candidate is not null && !string.IsNullOrWhiteSpace(configuration[candidate]))
            {
                return configuration[candidate]!;
            }
        }

        return fallback;
    }
}
