using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.CatchUp;

public static class CatchUpServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="CatchUpSweep"/> (the timer's entry point on both hosts), its watermark store and
    /// <see cref="CatchUpOptions"/> from section <c>CatchUp</c>, validated at start-up. Needs the Loop client, the
    /// returns ledger (<c>AddLoopFulfilReturns</c>), storage and an <c>IMessageSender</c>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilCatchUp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CatchUpOptions>()
            .Bind(configuration.GetSection(CatchUpOptions.Section))
            .Validate(o => CronExpression.TryParse(o.Schedule, out _, out _), "CatchUp:Schedule must be a six-field NCRONTAB expression (e.g. 0 */15 * * * *).")
            .Validate(o => o.Overlap >= TimeSpan.Zero && o.Overlap <= TimeSpan.FromDays(1), "CatchUp:Overlap must be 00:00:00-1.00:00:00.")
            .Validate(o => o.InitialLookback >= TimeSpan.Zero && o.InitialLookback <= TimeSpan.FromDays(120), "CatchUp:InitialLookback must be 0-120 days.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CatchUpWatermarkStore>();
        services.TryAddTransient<CatchUpSweep>();
        return services;
    }
}
