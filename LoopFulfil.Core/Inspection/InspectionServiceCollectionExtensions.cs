using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Inspection;

public static class InspectionServiceCollectionExtensions
{
    /// <summary>
    /// Registers the receipt and restock stages (<see cref="ReturnStageOrder.Receipt"/>, <see cref="ReturnStageOrder.InspectionRestock"/>),
    /// the entry point <see cref="InspectionService"/>, <see cref="ReturnUnitPlanLoader"/> and <see cref="InspectionOptions"/>
    /// from section <c>Inspection</c>, validated at start-up.
    /// </summary>
    public static IServiceCollection AddLoopFulfilInspection(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<InspectionOptions>()
            .Bind(configuration.GetSection(InspectionOptions.Section))
            .Validate(o => o.Destinations.Values.All(v => !string.IsNullOrWhiteSpace(v)), "Inspection:Destinations values must name a target (sellable, damaged, quarantine, missing or a location code).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReturnUnitPlanLoader>();
        services.TryAddTransient<InspectionService>();
        services.TryAddTransient<InspectionIngress>();
        services.AddLoopFulfilReturnStage<ReceiptStage>();
        services.AddLoopFulfilReturnStage<RestockStage>();
        return services;
    }
}
