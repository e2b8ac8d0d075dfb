using LoopFulfil.Core.Returns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Skus;

public static class SkusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Fulfil SKU catalog (<see cref="ISkuCatalog"/>, <see cref="FulfilSkuCatalog"/>) and its process-wide
    /// <see cref="FulfilProductCache"/>. Needs <c>IFulfilClient</c> (<c>AddLoopFulfilFulfil</c>); the cache lifetime is
    /// <see cref="ReturnsOptions.SkuCacheSeconds"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilSkus(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FulfilProductCache>();
        // Transient: it holds a typed HttpClient, which must not be captured for the life of the process.
        services.TryAddTransient<FulfilSkuCatalog>();
        services.TryAddTransient<ISkuCatalog>(sp => sp.GetRequiredService<FulfilSkuCatalog>());
        return services;
    }
}
