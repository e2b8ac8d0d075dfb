using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Health;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Skus;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Core.WriteBack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.DependencyInjection;

public static class LoopFulfilServiceCollectionExtensions
{
    /// <summary>
    /// The composition root shared by every host: registers each feature's services from configuration.
    /// Hosts call it once; each feature contributes one <c>AddLoopFulfilXxx</c> call here, and only here are a folder's
    /// dependencies on other folders' services met (<c>FolderRegistrationTests</c>). Host-specific pieces stay
    /// in the host: the <c>IMessageSender</c> (Service Bus in Functions, Azurite queues on one machine) and the
    /// triggers/dispatchers that call the features' entry points.
    /// </summary>
    public static IServiceCollection AddLoopFulfil(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // TryAdd: tests and the single-machine demo substitute their own clock before calling this.
        services.TryAddSingleton(TimeProvider.System);

        // Shared mechanisms the features' services need: stores, claim checks, metrics, the HTTP resilience pipelines.
        services.AddLoopFulfilStorage(configuration);
        services.AddLoopFulfilMessaging();
        services.AddLoopFulfilDiagnostics();
        services.AddLoopFulfilHttpResilience(configuration);
        services.AddLoopFulfilHealth(configuration);

        // Entry points of the queue and HTTP triggers (each host binds them to its own transport).
        services.AddLoopFulfilExceptions(configuration);
        services.AddLoopFulfilExceptionAlerts(configuration);
        services.AddLoopFulfilWebhooks(configuration);
        services.AddLoopFulfilFulfil(configuration);
        services.AddLoopFulfilLoop(configuration);
        services.AddLoopFulfilShadowMode(configuration);
        services.AddLoopFulfilSkus();
        services.AddLoopFulfilReturns(configuration);
        services.AddLoopFulfilInspection(configuration);
        services.AddLoopFulfilRefunds(configuration);
        services.AddLoopFulfilExchanges();
        services.AddLoopFulfilWriteBack(configuration);
        services.AddLoopFulfilReconciliation(configuration);
        services.AddLoopFulfilCommerceSync(configuration);

        // Backoff and dead letters of every queue consumer; the catch-up sweep of returns missed by webhooks.
        services.AddLoopFulfilRedelivery(configuration);
        services.AddLoopFulfilCatchUp(configuration);

        // The queues, timers and routes both hosts bind (Core/Hosting/EntryPoints.cs).
        services.AddLoopFulfilEntryPoints(configuration);

        // Retention of personal data and erasure on request (docs/privacy.md).
        services.AddLoopFulfilPrivacy(configuration);

        return services;
    }
}
