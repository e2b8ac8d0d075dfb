using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Outcomes;

public static class OutcomesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the outcome stages of the returns pipeline (Receipt 200, Restock 300, Refunds 400, Exchanges 500,
    /// WriteBack 900), the entry points <see cref="InspectionService"/>, <see cref="ScheduledPostingJob"/> and
    /// <see cref="ExchangeOrderHandler"/>, and options <see cref="InspectionOptions"/> (<c>Inspection</c>),
    /// <see cref="RefundsOptions"/> (<c>Refunds</c>) and <see cref="WriteBackOptions"/> (<c>WriteBack</c>).
    /// Requires <c>AddLoopFulfilReturns</c> and what it requires (Fulfil, Loop, exceptions, storage, message sender).
    /// </summary>
    public static IServiceCollection AddLoopFulfilOutcomes(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<InspectionOptions>()
            .Bind(configuration.GetSection(InspectionOptions.Section))
            .Validate(o => o.Destinations.Values.All(v => !string.IsNullOrWhiteSpace(v)), "Inspection:Destinations values must name a target (sellable, damaged, quarantine, missing or a location code).")
            .ValidateOnStart();
        services.AddOptions<RefundsOptions>()
            .Bind(configuration.GetSection(RefundsOptions.Section))
            .Validate(o => o.AmountTolerance >= 0, "Refunds:AmountTolerance must be zero or more.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.CompanyCurrency), "Refunds:CompanyCurrency is required.")
            .Validate(o => o.PostingMode != PostingMode.Scheduled || CronExpression.TryParse(o.PostingSchedule, out _, out _), "Refunds:PostingSchedule must be a six-field NCRONTAB expression.")
            .ValidateOnStart();
        services.AddOptions<WriteBackOptions>().Bind(configuration.GetSection(WriteBackOptions.Section));

        // Same named client as IFulfilClient: one base address, one resilience pipeline and circuit for Fulfil.
        services.AddHttpClient<IFulfilOutcomesClient, FulfilOutcomesClient>(FulfilServiceCollectionExtensions.HttpClientName);
        services.AddHttpClient<IFulfilReceivables, FulfilReceivablesClient>(FulfilServiceCollectionExtensions.HttpClientName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PostingStore>();
        // Commerce sync (when registered) values Loop order refunds from posted credit notes.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICommerceReturnRefunds, PostedCreditNoteRefunds>());
        services.TryAddSingleton<ReturnUnitPlanLoader>();
        services.TryAddTransient<RefundPoster>();
        services.TryAddTransient<InspectionService>();
        services.TryAddTransient<ScheduledPostingJob>();
        services.TryAddTransient<ExchangeOrderHandler>();
        services.TryAddTransient<ReturnSettlement>();
        services.AddLoopFulfilReturnStage<ReceiptStage>();
        services.AddLoopFulfilReturnStage<RestockStage>();
        services.AddLoopFulfilReturnStage<RefundsStage>();
        services.AddLoopFulfilReturnStage<ExchangeStage>();
        services.AddLoopFulfilReturnStage<SettlementStage>();
        services.AddLoopFulfilReturnStage<WriteBackStage>();
        return services;
    }
}
