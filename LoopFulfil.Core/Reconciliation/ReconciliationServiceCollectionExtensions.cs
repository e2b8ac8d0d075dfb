using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Reconciliation;

public static class ReconciliationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ReconciliationJob"/> (timer and <c>loopfulfil reconcile|audit</c>), <see cref="ReconciliationReports"/>
    /// (the report routes), the report store and <see cref="ReconciliationOptions"/> from section <c>Reconciliation</c>,
    /// validated at start-up. Requires the Fulfil (its reconciliation reader), Loop, returns, refunds (the posting
    /// store), exceptions and diagnostics registrations, storage and an <c>IMessageSender</c>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilReconciliation(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ReconciliationOptions>()
            .Bind(configuration.GetSection(ReconciliationOptions.Section))
            .Validate(o => CronExpression.TryParse(o.Schedule, out _, out _), "Reconciliation:Schedule must be a six-field NCRONTAB expression (e.g. 0 0 2 * * *).")
            .Validate(o => o.RestockSla > TimeSpan.Zero, "Reconciliation:RestockSla must be positive (e.g. 3.00:00:00).")
            .Validate(o => o.HistoryDays is >= 1 and <= 366, "Reconciliation:HistoryDays must be 1-366.")
            .Validate(o => o.OldestExceptionsShown >= 0, "Reconciliation:OldestExceptionsShown must be zero or more.")
            .Validate(o => o.FulfilBatchSize is >= 1 and <= 200, "Reconciliation:FulfilBatchSize must be 1-200.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReconciliationReportStore>();
        services.TryAddTransient<ReconciliationReports>();
        services.TryAddTransient<ReconciliationJob>();
        return services;
    }
}
