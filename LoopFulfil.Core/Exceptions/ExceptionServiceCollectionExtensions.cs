using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Exceptions;

public static class ExceptionServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ExceptionService"/> and <see cref="SkuExceptionRechecker"/> with <see cref="ExceptionOptions"/>
    /// bound from section <c>Exceptions</c>. The host provides <c>ITableStore</c>, <c>IMessageSender</c> and (for
    /// the rechecker) <c>ISkuCatalog</c>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilExceptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ExceptionService)))
        {
            return services;
        }

        services.AddOptions<ExceptionOptions>()
            .Bind(configuration.GetSection(ExceptionOptions.Section))
            .Validate(o => o.SkuRecheckSchedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6, "Exceptions:SkuRecheckSchedule must be a six-field NCRONTAB expression.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ExceptionService>();
        services.TryAddSingleton<SkuExceptionRechecker>();
        return services;
    }
}
