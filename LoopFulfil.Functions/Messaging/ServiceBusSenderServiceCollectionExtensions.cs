using Azure.Core;
using Azure.Messaging.ServiceBus;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Functions.Messaging;

public static class ServiceBusSenderServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Functions host's <see cref="IMessageSender"/>: <see cref="ServiceBusMessageSender"/> over one
    /// <see cref="ServiceBusClient"/> configured like the triggers (<see cref="ServiceBusConnectionSettings"/>). The
    /// settings are read now, so a missing connection fails the host at start-up rather than the first webhook.
    /// </summary>
    public static IServiceCollection AddLoopFulfilServiceBusSender(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var settings = ServiceBusConnectionSettings.FromConfiguration(configuration);
        services.AddSingleton(settings);

        // The same identity for Service Bus and, unless the host registered its own, for storage (endpoint mode).
        if (settings.UsesIdentity)
        {
            services.TryAddSingleton(_ => settings.CreateCredential());
        }

        // Singletons: one AMQP connection per process, disposed (after the senders) when the host stops.
        services.AddSingleton(sp => settings.CreateClient(sp.GetService<TokenCredential>()));
        services.TryAddSingleton(sp => new ClaimCheck(sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ServiceBusMessageSender(
            sp.GetRequiredService<ServiceBusClient>(),
            sp.GetRequiredService<ClaimCheck>(),
            sp.GetRequiredService<ILogger<ServiceBusMessageSender>>()));
        services.AddSingleton<IMessageSender>(sp => sp.GetRequiredService<ServiceBusMessageSender>());
        return services;
    }
}
