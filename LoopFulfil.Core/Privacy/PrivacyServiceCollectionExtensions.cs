using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Privacy;

public static class PrivacyServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RetentionJob"/> (the retention timer's entry point on both hosts), <see cref="ErasureService"/>
    /// (the CLI's and the ops route's) and <see cref="PrivacyOptions"/> from section <c>Privacy</c>, validated at
    /// start-up. Needs storage and the <see cref="ClaimCheck"/> they prune (<c>AddLoopFulfilMessaging</c>).
    /// </summary>
    public static IServiceCollection AddLoopFulfilPrivacy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PrivacyOptions>()
            .Bind(configuration.GetSection(PrivacyOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrivacyOptions>, PrivacyOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RetentionWatermarkStore>();
        services.TryAddTransient<RetentionJob>();

        // Every table LoopFulfil writes whose rows could carry a value copied from a payload.
        var commerceTable = configuration[$"{CommerceSyncOptions.Section}:{nameof(CommerceSyncOptions.TableName)}"] is { Length: > 0 } configured
            ? configured
            : new CommerceSyncOptions().TableName;
        // A host adds its own such tables as HostPersonalDataTable (the single-machine sender's dedupe table).
        services.TryAddSingleton(sp => new PersonalDataTables(
        [
            ReturnLedger.Table, ExceptionService.TableName, PostingStore.Table, commerceTable, ReconciliationReportStore.Table,
            CatchUpWatermarkStore.Table, .. sp.GetServices<HostPersonalDataTable>().Select(t => t.Name),
        ]));
        services.TryAddTransient<ErasureService>();
        return services;
    }

    private sealed class PrivacyOptionsValidator : IValidateOptions<PrivacyOptions>
    {
        public ValidateOptionsResult Validate(string? name, PrivacyOptions options)
        {
            var problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
