using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Scheduling;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.LocalHost;

/// <summary>Registration of the single-machine host's runtime: message sender, queue dispatchers, timers.</summary>
public static class LocalHostServiceCollectionExtensions
{
    /// <summary>Name of the built-in timer job that prunes expired duplicate detection rows.</summary>
    public const string DedupePruneJobName = "local-dedupe-prune";

    /// <summary>
    /// Binds <see cref="LocalHostOptions"/> (validated at start-up), registers <see cref="LocalMessageSender"/> as the
    /// <see cref="IMessageSender"/>, the <see cref="TimerScheduler"/> with an hourly duplicate detection prune, and
    /// sets the host's shutdown timeout to cover the dispatchers' grace period. Needs <see cref="IQueueStore"/>,
    /// <see cref="ITableStore"/> and <see cref="IBlobStore"/> registered by the storage feature. Add queues with
    /// <see cref="AddLoopFulfilQueueHandler"/> and jobs with <see cref="AddLoopFulfilTimerJob"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilLocalHost(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LocalHostOptions>()
            .Bind(configuration.GetSection(LocalHostOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalHostOptions>, LocalHostOptionsValidator>());

        // Dispatchers drain in parallel, each within its grace, and the host must wait for them.
        services.AddOptions<HostOptions>().Configure<IOptions<LocalHostOptions>>((host, local) =>
        {
            host.ServicesStopConcurrently = true;
            var needed = TimeSpan.FromSeconds(local.Value.ShutdownGraceSeconds + 10);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LocalMessageSender>();
        services.TryAddSingleton<ClaimCheck>();
        services.AddSingleton<IMessageSender>(sp => sp.GetRequiredService<LocalMessageSender>());
        // Core's erasure does not know this host's tables: it searches the dedupe table because it is named here.
        services.AddSingleton(new HostPersonalDataTable(LocalMessageSender.DedupeTable));

        services.AddLoopFulfilTimerJob(
            DedupePruneJobName,
            "0 17 * * * *",
            (sp, ct) => sp.GetRequiredService<LocalMessageSender>().PruneDuplicateDetectionAsync(ct));

        // Claim-checked bodies are pruned by the privacy retention job, the same on both hosts (serve schedules it).
        return services;
    }

    /// <summary>
    /// Adds a <see cref="QueueDispatcher"/> (hosted service) for <paramref name="queue"/>: each message runs
    /// <paramref name="handler"/> in its own DI scope, through <see cref="MessageRedelivery"/> when it is registered
    /// (a transient failure is re-enqueued with a visibility delay and the original completed). Poisoned messages go to every registered
    /// <see cref="IPoisonMessageSink"/>. A claim-checked body (<see cref="ClaimCheck"/>) is put back in place
    /// before the handler and the sinks see the message.
    /// </summary>
    public static IServiceCollection AddLoopFulfilQueueHandler(
        this IServiceCollection services,
        string queue,
        Func<IServiceProvider, InboundMessage, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(handler);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IHostedService>(sp =>
        {
            var scopes = sp.GetRequiredService<IServiceScopeFactory>();
            var sinks = sp.GetServices<IPoisonMessageSink>().ToList();
            var claims = sp.GetService<ClaimCheck>();

            // Backoff instead of in-place retries for transient failures (registered by the composition root).
            var redelivery = sp.GetService<MessageRedelivery>();
            return new QueueDispatcher(
                queue,
                async (message, ct) =>
                {
                    var scope = scopes.CreateAsyncScope();
                    await using (scope.ConfigureAwait(false))
                    {
                        if (claims is not null)
                        {
                            message = await claims.ResolveAsync(message, ct).ConfigureAwait(false);
                        }

                        if (redelivery is null)
                        {
                            await handler(scope.ServiceProvider, message, ct).ConfigureAwait(false);
                        }
                        else
                        {
                            var services = scope.ServiceProvider;
                            await redelivery.HandleAsync(queue, message, (m, c) => handler(services, m, c), ct).ConfigureAwait(false);
                        }
                    }
                },
                sp.GetRequiredService<IQueueStore>(),
                sp.GetRequiredService<IOptions<LocalHostOptions>>().Value,
                sinks.Count == 0 ? null : async (poisoned, ct) =>
                {
                    poisoned = await ResolveForSinksAsync(claims, poisoned, ct).ConfigureAwait(false);
                    foreach (var sink in sinks)
                    {
                        await sink.OnPoisonedAsync(poisoned, ct).ConfigureAwait(false);
                    }
                },
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<QueueDispatcher>>());
        });
        return services;
    }

    /// <summary>
    /// Adds a <see cref="TimerJob"/> and the <see cref="TimerScheduler"/> that runs it. The schedule is parsed now, so
    /// a bad expression fails at start-up, naming the field.
    /// </summary>
    public static IServiceCollection AddLoopFulfilTimerJob(
        this IServiceCollection services,
        string name,
        string schedule,
        Func<IServiceProvider, CancellationToken, Task> run,
        bool runOnStartup = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(run);
        services.AddSingleton(new TimerJob(name, CronExpression.Parse(schedule), run) { RunOnStartup = runOnStartup });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TimerScheduler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TimerSchedulerHostedService>());
        return services;
    }

    private static async Task<PoisonedMessage> ResolveForSinksAsync(ClaimCheck? claims, PoisonedMessage poisoned, CancellationToken cancellationToken)
    {
        if (claims is null)
        {
            return poisoned;
        }

        try
        {
            return poisoned with { Message = await claims.ResolveAsync(poisoned.Message, cancellationToken).ConfigureAwait(false) };
        }
        catch (PermanentIntegrationException)
        {
            // The body itself is what went missing: the sinks still hear of the message, with the reference.
            return poisoned;
        }
    }

    private sealed class LocalHostOptionsValidator : IValidateOptions<LocalHostOptions>
    {
        public ValidateOptionsResult Validate(string? name, LocalHostOptions options)
        {
            var problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }

    /// <summary>Runs the singleton scheduler as a hosted service, so <see cref="TimerScheduler.RunNowAsync"/> reaches the same instance.</summary>
    private sealed class TimerSchedulerHostedService(TimerScheduler scheduler) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => scheduler.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => scheduler.StopAsync(cancellationToken);
    }
}
