using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.LocalHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// How <c>loopfulfil serve</c> composes Core: the shared composition root, then the single-machine stand-ins for what
/// Azure provides (Service Bus → Azurite queues with <see cref="QueueDispatcher"/>s, timer triggers →
/// <c>TimerScheduler</c>), bound from <see cref="EntryPoints"/>, the list the Functions app declares its functions from.
/// </summary>
internal static class ServeComposition
{
    public static IServiceCollection AddLoopFulfilServe(this IServiceCollection services, IConfiguration configuration)
    {
        // Every feature comes from the composition root the Functions app uses; this host adds only its transport.
        services.AddLoopFulfil(configuration);

        services.AddLoopFulfilLocalHost(configuration);
        // Poisoned messages become replayable DeadLettered exception records (the same recorder as the Functions' dead-letter triggers).
        services.AddSingleton<IPoisonMessageSink, DeadLetterPoisonSink>();

        // The dispatcher resolves claim-checked bodies and runs each handler through MessageRedelivery, as
        // QueueEntryRunner does for the Functions triggers.
        foreach (var queue in EntryPoints.Queues)
        {
            services.AddLoopFulfilQueueHandler(queue.Queue, queue.Handle);
        }

        // Each timer from the flat setting the Functions trigger binds (%Setting%); serve also runs the catch-up on start.
        foreach (var timer in EntryPoints.Timers)
        {
            services.AddLoopFulfilTimerJob(timer.Function, EntryPoints.Schedule(timer, configuration), timer.Run, runOnStartup: timer.RunsOnStart);
        }

        return services;
    }
}
