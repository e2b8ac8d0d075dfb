using LoopFulfil.Core.Scheduling;
using LoopFulfil.Core.WriteBack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.CommerceSync;

/// <summary>DI registration of the commerce data push.</summary>
public static class CommerceSyncServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="CommerceSyncJob"/> and <see cref="CommerceMappingStore"/> (singletons) and binds
    /// <see cref="CommerceSyncOptions"/> from section <c>CommerceSync</c>, validated at start-up. Needs
    /// <c>ITableStore</c> (AddLoopFulfilStorage), <c>IFulfilClient</c> (AddLoopFulfilFulfil) and <c>ILoopClient</c> (AddLoopFulfilLoop).
    /// </summary>
    public static IServiceCollection AddLoopFulfilCommerceSync(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CommerceSyncOptions>()
            .Bind(configuration.GetSection(CommerceSyncOptions.Section))
            .Validate(o => o.ReturnWindowDays > 0, "CommerceSync:ReturnWindowDays must be positive.")
            .Validate(o => o.MaxConcurrency is > 0 and <= 256, "CommerceSync:MaxConcurrency must be 1–256.")
            .Validate(o => o.RunBudget > TimeSpan.Zero, "CommerceSync:RunBudget must be positive (e.g. 00:09:00).")
            .Validate(o => o.PageSize is > 0 and <= 1000, "CommerceSync:PageSize must be 1–1000.")
            .Validate(o => IsSixFieldCron(o.IncrementalSchedule), "CommerceSync:IncrementalSchedule must be a six-field NCRONTAB expression such as 0 */15 * * * *.")
            .Validate(o => IsSixFieldCron(o.FullPassSchedule), "CommerceSync:FullPassSchedule must be a six-field NCRONTAB expression such as 0 0 3 * * *.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.TableName) && char.IsAsciiLetter(o.TableName[0]) && o.TableName.All(char.IsAsciiLetterOrDigit) && o.TableName.Length is >= 3 and <= 63, "CommerceSync:TableName must be 3–63 letters and digits, starting with a letter.")
            .Validate(o => o.CurrencyCode?.Trim().Length == 3, "CommerceSync:CurrencyCode must be an ISO 4217 code such as USD.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CommerceMappingStore>();
        services.TryAddSingleton<CommerceSyncJob>();
        // The write-back records posted refunds on Loop orders through it.
        services.TryAddSingleton<ILoopOrderPusher>(static sp => sp.GetRequiredService<CommerceSyncJob>());
        return services;
    }

    /// <summary>A valid six-field NCRONTAB expression (Functions timers use seconds first).</summary>
    internal static bool IsSixFieldCron(string? expression) => CronExpression.TryParse(expression, out _, out _);
}
