using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Exceptions;

public static class ExceptionAlertServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ExceptionAlertHandler"/> (the <c>exceptions</c> queue consumer) with the exception records
    /// and their options. The host provides the Loop client (<c>AddLoopFulfilLoop</c>).
    /// </summary>
    public static IServiceCollection AddLoopFulfilExceptionAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLoopFulfilExceptions(configuration);

        // Transient: it holds the Loop client, a typed HttpClient that must not live for the whole process.
        services.TryAddTransient<ExceptionAlertHandler>();
        return services;
    }
}
