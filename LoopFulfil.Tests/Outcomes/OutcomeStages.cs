using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.WriteBack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

internal static class OutcomeStages
{
    /// <summary>The outcome stage families as the composition root adds them: inspection, refunds, exchanges, write-back.</summary>
    public static IServiceCollection AddOutcomeStages(this IServiceCollection services, IConfiguration configuration) =>
        services.AddLoopFulfilInspection(configuration).AddLoopFulfilRefunds(configuration).AddLoopFulfilExchanges().AddLoopFulfilWriteBack(configuration);
}
