using LoopFulfil.Core.Returns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Exchanges;

public static class ExchangesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the exchange stage (<see cref="ReturnStageOrder.Exchanges"/>), the <c>loop-exchanges</c> queue's entry
    /// point <see cref="ExchangeOrderHandler"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilExchanges(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddTransient<ExchangeOrderHandler>();
        services.AddLoopFulfilReturnStage<ExchangeStage>();
        return services;
    }
}
