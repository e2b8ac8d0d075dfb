using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.GoLive;

public static class GoLiveServiceCollectionExtensions
{
    /// <summary>The go-live audit (needs AddLoopFulfilFulfil, which registers IFulfilOutcomesClient too, the Loop client and the webhook and refunds options).</summary>
    public static IServiceCollection AddLoopFulfilGoLiveAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GoLiveAuditOptions>().Bind(configuration.GetSection(GoLiveAuditOptions.Section))
            .Validate(o => o.LookbackDays is >= 1 and <= 365, "Audit:LookbackDays must be 1-365.")
            .Validate(o => o.WebhookUrl.Length == 0 || Uri.TryCreate(o.WebhookUrl, UriKind.Absolute, out _), "Audit:WebhookUrl must be an absolute URL.");
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddTransient<GoLiveAudit>();
        return services;
    }
}
