using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Core.Health;

public static class HealthServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HealthCheck"/> and binds <see cref="HealthOptions"/> from section <c>Health</c>.
    /// Needs an <see cref="Storage.ITableStore"/> and a <see cref="TimeProvider"/> registered elsewhere.
    /// </summary>
    public static IServiceCollection AddLoopFulfilHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>()
            .Bind(configuration.GetSection(HealthOptions.Section))
            .Validate(o => o.StorageProbeTimeout > TimeSpan.Zero && o.StorageProbeTimeout <= TimeSpan.FromMinutes(1),
                "Health:StorageProbeTimeout must be greater than zero and at most one minute.")
            .ValidateOnStart();
        services.AddSingleton<HealthCheck>();
        return services;
    }
}
