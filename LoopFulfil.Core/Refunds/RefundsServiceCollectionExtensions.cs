using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Refunds;

public static class RefundsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the refunds stage (<see cref="ReturnStageOrder.Refunds"/>), <see cref="RefundPoster"/>,
    /// <see cref="PostingStore"/>, the entry point <see cref="ScheduledPostingJob"/> and <see cref="RefundsOptions"/>
    /// from section <c>Refunds</c>, validated at start-up.
    /// </summary>
    public static IServiceCollection AddLoopFulfilRefunds(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RefundsOptions>()
            .Bind(configuration.GetSection(RefundsOptions.Section))
            .Validate(o => o.AmountTolerance >= 0, "Refunds:AmountTolerance must be zero or more.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.CompanyCurrency), "Refunds:CompanyCurrency is required.")
            .Validate(o => o.PostingParallelism >= 1, "Refunds:PostingParallelism must be 1 or more.")
            .Validate(o => o.PostingMode != PostingMode.Scheduled || CronExpression.TryParse(o.PostingSchedule, out _, out _), "Refunds:PostingSchedule must be a six-field NCRONTAB expression.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PostingStore>();
        services.TryAddTransient<RefundPoster>();
        services.TryAddTransient<ScheduledPostingJob>();
        services.TryAddTransient<ReturnSettlement>();
        services.AddLoopFulfilReturnStage<RefundsStage>();
        services.AddLoopFulfilReturnStage<SettlementStage>();
        return services;
    }
}
