using LoopFulfil.Core.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Loop;

/// <summary>DI registration of the Loop client and its process-wide rate limiter.</summary>
public static class LoopServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ILoopClient"/> (typed HttpClient "Loop") with the shared resilience handler (retries with
    /// backoff honouring Retry-After, timeouts, circuit breaker) outside the rate limiter, plus <see cref="LoopRateLimiter"/>
    /// and <see cref="LoopOptions"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilLoop(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddLoopFulfilHttpResilience(configuration);
        return services.AddLoopFulfilLoop(configuration, builder => builder.AddLoopFulfilResilience());
    }

    /// <summary>
    /// As <see cref="AddLoopFulfilLoop(IServiceCollection, IConfiguration)"/>; <paramref name="configureOuterHandlers"/>
    /// adds handlers (e.g. the resilience handler) outside the rate limiter, so every retry attempt waits for a permit.
    /// </summary>
    public static IServiceCollection AddLoopFulfilLoop(this IServiceCollection services, IConfiguration configuration, Action<IHttpClientBuilder>? configureOuterHandlers)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LoopOptions>()
            .Bind(configuration.GetSection(LoopOptions.Section))
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out _), "Loop:BaseUrl must be an absolute URL.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiVersion), "Loop:ApiVersion is required (e.g. 2026-10).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey), "Loop:ApiKey is required.")
            .Validate(o => o.RequestsPerMinute > 0, "Loop:RequestsPerMinute must be positive.")
            .Validate(o => o.RateLimitWindow > TimeSpan.Zero, "Loop:RateLimitWindow must be positive.")
            .Validate(o => o.TimeoutSeconds > 0, "Loop:TimeoutSeconds must be positive.")
            .Validate(o => o.ReturnsPageSize is > 0 and <= LoopClient.MaxPageSize, "Loop:ReturnsPageSize must be 1–750.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LoopRateLimiter>();
        services.TryAddTransient<LoopRateLimitHandler>();

        var builder = services.AddHttpClient<ILoopClient, LoopClient>(
            LoopClient.HttpClientName,
            (provider, http) => LoopClient.Configure(http, provider.GetRequiredService<IOptions<LoopOptions>>().Value));
        configureOuterHandlers?.Invoke(builder);
        builder.AddHttpMessageHandler<LoopRateLimitHandler>();
        builder.AddHttpMessageHandler(provider =>
            new LoopAttemptTimeoutHandler(TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<LoopOptions>>().Value.TimeoutSeconds)));
        return services;
    }
}
