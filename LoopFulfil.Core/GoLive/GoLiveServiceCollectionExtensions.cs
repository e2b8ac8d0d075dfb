using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Outcomes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.GoLive;

public static class GoLiveServiceCollectionExtensions
{
    /// <summary>The go-live audit (needs the Fulfil and Loop clients and the webhook and refunds options).</summary>
    public static IServiceCollection AddLoopFulfilGoLiveAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GoLiveAuditOptions>().Bind(configuration.GetSection(GoLiveAuditOptions.Section))
            .Validate(o => o.LookbackDays is >= 1 and <= 365, "Audit:LookbackDays must be 1-365.")
            .Validate(o => o.WebhookUrl.Length == 0 || Uri.TryCreate(o.WebhookUrl, UriKind.Absolute, out _), "Audit:WebhookUrl must be an absolute URL.");
        services.TryAddSingleton(TimeProvider.System);
        // The warehouse's return flow (waste locations) for the quarantine check; same named client as IFulfilClient.
        if (!services.Any(d => d.ServiceType == typeof(IFulfilOutcomesClient)))
        {
            services.AddHttpClient<IFulfilOutcomesClient, FulfilOutcomesClient>(FulfilServiceCollectionExtensions.HttpClientName);
        }

        services.TryAddTransient<GoLiveAudit>();
        return services;
    }
}
