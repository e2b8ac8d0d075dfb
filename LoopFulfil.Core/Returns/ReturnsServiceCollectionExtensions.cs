using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Returns;

public static class ReturnsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ReturnEventHandler"/> (the <c>loop-returns</c> consumer), the ledger, the references, the
    /// exception reporter and the Authorisation and Cancellation stages, with <see cref="ReturnsOptions"/> bound from
    /// section <c>Returns</c>. The host provides <c>ITableStore</c>, <c>IMessageSender</c>, and the Fulfil, Loop,
    /// SKU catalog (<c>AddLoopFulfilSkus</c>) and Exceptions registrations.
    /// </summary>
    public static IServiceCollection AddLoopFulfilReturns(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ReturnsOptions>()
            .Bind(configuration.GetSection(ReturnsOptions.Section))
            .Validate(o => o.SkuCacheSeconds >= 0, "Returns:SkuCacheSeconds must be zero or more.")
            .Validate(o => !string.IsNullOrEmpty(o.ReturnOrderReferencePrefix), "Returns:ReturnOrderReferencePrefix must be set: every Loop document reference starts with it, so it cannot be empty.")
            .Validate(o => o.StepLeaseDuration > TimeSpan.Zero, "Returns:StepLeaseDuration must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReturnLedger>();
        services.TryAddSingleton(LoopReferences.Create);
        services.TryAddTransient<IReturnExceptionReporter, ReturnExceptionReporter>();
        services.TryAddTransient<ProcessingGate>();
        services.AddLoopFulfilReturnStage<AuthorisationStage>();
        services.AddLoopFulfilReturnStage<CancellationStage>();
        services.TryAddTransient<ReturnEventHandler>();
        return services;
    }

    /// <summary>
    /// Adds a stage to the returns pipeline (once per type). Outcome features call this from their own
    /// <c>AddLoopFulfilXxx</c>; the handler orders stages by <see cref="IReturnStage.Order"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilReturnStage<TStage>(this IServiceCollection services)
        where TStage : class, IReturnStage
    {
        services.TryAddEnumerable(ServiceDescriptor.Transient<IReturnStage, TStage>());
        return services;
    }
}
