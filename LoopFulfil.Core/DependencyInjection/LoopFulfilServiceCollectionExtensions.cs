using LoopFulfil.Core.Health;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.DependencyInjection;

public static class LoopFulfilServiceCollectionExtensions
{
    /// <summary>
    /// The composition root shared by every host: registers each feature's services from configuration.
    /// Hosts call it once; each feature contributes one <c>AddLoopFulfilXxx</c> call here.
    /// </summary>
    public static IServiceCollection AddLoopFulfil(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // TryAdd: tests and the single-machine demo substitute their own clock before calling this.
        services.TryAddSingleton(TimeProvider.System);

        services.AddLoopFulfilStorage(configuration);
        services.AddLoopFulfilHealth(configuration);

        return services;
    }
}
