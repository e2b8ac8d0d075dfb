using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.LocalHost;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
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

    public static IServiceCollection AddLoopFulfilServe(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddLoopFulfil(configuration);

        // Features the composition root does not register yet. Each is skipped once AddLoopFulfil includes it, so the
        // two hosts never diverge and nothing is registered twice.
        AddUnlessPresent<IFulfilClient>(services, s => s.AddLoopFulfilFulfil(configuration));
        AddUnlessPresent<ILoopClient>(services, s => s.AddLoopFulfilLoop(configuration));
        AddUnlessPresent<WebhookIngress>(services, s => s.AddLoopFulfilWebhooks(configuration));
        AddUnlessPresent<ExceptionService>(services, s => s.AddLoopFulfilExceptions(configuration));
        AddUnlessPresent<ReturnEventHandler>(services, s => s.AddLoopFulfilReturns(configuration));

        services.AddLoopFulfilLocalHost(configuration);
        services.AddSingleton<IPoisonMessageSink, PoisonExceptionSink>();
        services.AddSingleton<ExceptionAlertLogger>();

        services.AddLoopFulfilQueueHandler(QueueNames.LoopReturns, static (sp, message, ct) =>
            sp.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct));
        services.AddLoopFulfilQueueHandler(QueueNames.Exceptions, static (sp, message, ct) =>
            sp.GetRequiredService<ExceptionAlertLogger>().HandleAsync(message, ct));

        services.AddLoopFulfilTimerJob(
            SkuRecheckJob,
            Schedule(configuration, $"{ExceptionOptions.Section}:{nameof(ExceptionOptions.SkuRecheckSchedule)}", new ExceptionOptions().SkuRecheckSchedule),
            static async (sp, ct) => await sp.GetRequiredService<SkuExceptionRechecker>().RunAsync(ct).ConfigureAwait(false));

        OutcomeWiring.Add(services, configuration);
        return services;
    }

    /// <summary>The six-field NCRONTAB schedule a Functions timer reads from the same setting (its default when unset).</summary>
    public static string Schedule(IConfiguration configuration, string key, string fallback) =>
        string.IsNullOrWhiteSpace(configuration[key]) ? fallback : configuration[key]!;

    private static void AddUnlessPresent<TMarker>(IServiceCollection services, Action<IServiceCollection> add)
    {
        if (!services.Any(d => d.ServiceType == typeof(TMarker)))
        {
            add(services);
        }
    }
}
