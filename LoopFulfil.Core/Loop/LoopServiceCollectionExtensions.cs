using LoopFulfil.Core.Http;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Loop;

/// <summary>DI registration of the Loop client and its process-wide rate limiter.</summary>
public static class LoopServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ILoopClient"/> (typed HttpClient "Loop") with the shared resilience handler (retries with
    /// backoff honouring Retry-After, timeouts, circuit breaker) outside the rate limiter, plus <see cref="LoopRateLimiter"/>
    /// and <see cref="LoopOptions"/>. The pipeline provider comes from <c>AddLoopFulfilHttpResilience</c>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilLoop(this IServiceCollection services, IConfiguration configuration)
        => services.AddLoopFulfilLoop(configuration, builder => builder.AddLoopFulfilResilience());

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
            .Validate(o => o.RateLimitWindowPadding >= TimeSpan.Zero && o.RateLimitWindowPadding < o.RateLimitWindow, "Loop:RateLimitWindowPadding must be zero or more and less than the window.")
            .Validate(o => !o.SharedRateLimit || IsTableName(o.SharedRateLimitTable), "Loop:SharedRateLimitTable must be 3–63 letters and digits, starting with a letter.")
            .Validate(o => !o.SharedRateLimit || o.SharedRateLimitMaxBlock > 0, "Loop:SharedRateLimitMaxBlock must be positive.")
            .Validate(o => !o.SharedRateLimit || (o.SharedRateLimitBlockHold > TimeSpan.Zero && o.SharedRateLimitBlockHold < o.RateLimitWindow), "Loop:SharedRateLimitBlockHold must be positive and less than the window.")
            .Validate(o => !o.SharedRateLimit || (o.SharedRateLimitExpectedInstances > 0 && o.SharedRateLimitExpectedInstances <= o.RequestsPerMinute), "Loop:SharedRateLimitExpectedInstances must be 1 to Loop:RequestsPerMinute.")
            .Validate(o => o.TimeoutSeconds > 0, "Loop:TimeoutSeconds must be positive.")
            .Validate(o => o.ReturnsPageSize is > 0 and <= LoopClient.MaxPageSize, "Loop:ReturnsPageSize must be 1–750.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        // The table store comes from AddLoopFulfilStorage (the composition root registers it); it is only resolved
        // when Loop:SharedRateLimit is on, so hosts without storage keep working with the per-process limiter.
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<LoopOptions>>();
            return new LoopRateLimiter(
                options,
                provider.GetRequiredService<TimeProvider>(),
                options.Value.SharedRateLimit ? provider.GetRequiredService<ITableStore>() : null,
                provider.GetService<ILogger<LoopRateLimiter>>());
        });
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

    private static bool IsTableName(string? name)
        => name is { Length: >= 3 and <= 63 } && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);
}
