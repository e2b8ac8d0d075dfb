using LoopFulfil.Core.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Fulfil;

public static class FulfilServiceCollectionExtensions
{
    /// <summary>The <c>HttpClient</c> name (and resilience pipeline name) of the Fulfil client.</summary>
    public const string HttpClientName = "Fulfil";

    /// <summary>
    /// Registers <see cref="IFulfilClient"/> (typed <c>HttpClient</c> with the shared resilience handler; the pipeline
    /// provider comes from <c>AddLoopFulfilHttpResilience</c>), <see cref="IFulfilOutcomesClient"/>,
    /// <see cref="IFulfilReceivables"/> and <see cref="IFulfilReconciliationReader"/> over the same named client, and
    /// binds <see cref="FulfilOptions"/> from section <c>Fulfil</c>, validated at start-up.
    /// </summary>
    public static IServiceCollection AddLoopFulfilFulfil(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FulfilOptions>()
            .Bind(configuration.GetSection(FulfilOptions.Section))
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp), "Fulfil:BaseUrl must be an absolute http(s) URL such as https://acme.fulfil.io/api/v2.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey), "Fulfil:ApiKey is required.")
            .Validate(o => o.PageSize > 0, "Fulfil:PageSize must be positive.")
            .ValidateOnStart();
        services.AddLoopFulfilResilientHttpClient<IFulfilClient, FulfilClient>(HttpClientName, static (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<FulfilOptions>>().Value;
            http.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
        });
        // Same named client: one base address, one resilience pipeline and circuit for Fulfil.
        services.AddHttpClient<IFulfilOutcomesClient, FulfilOutcomesClient>(HttpClientName);
        services.AddHttpClient<IFulfilReceivables, FulfilReceivablesClient>(HttpClientName);
        services.AddHttpClient<IFulfilReconciliationReader, FulfilReconciliationReader>(HttpClientName);
        return services;
    }
}
