using LoopFulfil.Core.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Core.Http;

/// <summary>Registration of the shared resilience handler for typed and named <c>HttpClient</c>s.</summary>
public static class HttpResilienceServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="HttpResilienceOptions"/> (section <c>HttpResilience</c>) for every client name and registers the
    /// pipeline provider the resilience handlers of every client use. The composition root calls it once (a second call
    /// does nothing); a host composing features by hand calls it before a client with <see cref="AddLoopFulfilResilience"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilHttpResilience(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ResilienceConfigurationMarker)))
        {
            return services;
        }

        services.AddSingleton<ResilienceConfigurationMarker>();
        services.AddOptions();
        services.Configure<HttpResilienceOptions>(name: null, configuration.GetSection(HttpResilienceOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HttpResiliencePipelineProvider>();
        return services;
    }

    /// <summary>
    /// Adds the resilience handler to a client. The pipeline (and its circuit) is per client name; <paramref name="configure"/>
    /// overrides the bound settings for this client only. HttpClient's own timeout is switched off: the pipeline owns timeouts.
    /// </summary>
    /// <remarks>
    /// It configures the caller's own client and registers no service: the pipeline provider the handlers resolve is
    /// registered by <see cref="AddLoopFulfilHttpResilience"/> (the composition root calls it), so a folder calling this
    /// for its client does not register the Http folder's services (<c>FolderRegistrationTests</c>).
    /// </remarks>
    public static IHttpClientBuilder AddLoopFulfilResilience(this IHttpClientBuilder builder, Action<HttpResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.Configure(builder.Name, configure);
        }

        var name = builder.Name;
        builder.ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
        // Outermost first: translation and logging, Microsoft.Extensions.Http.Resilience's handler running this
        // client's pipeline (kept by the provider, so the circuit outlives handler recycling), then one attempt.
        builder.AddHttpMessageHandler(sp => new ResilientHttpHandler(
            name,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("LoopFulfil.Http." + name)));
        builder.AddHttpMessageHandler(sp => new ResilienceHandler(PipelineProvider(sp).Get(name)));
        builder.AddHttpMessageHandler(sp => new UpstreamAttemptHandler(name, sp.GetRequiredService<TimeProvider>(), sp.GetService<LoopFulfilMetrics>()));
        return builder;
    }

    /// <summary>
    /// Registers the caller's <typeparamref name="TImplementation"/> as a typed client named <paramref name="name"/> with
    /// the resilience handler (see <see cref="AddLoopFulfilResilience"/>: the pipeline provider comes from
    /// <see cref="AddLoopFulfilHttpResilience"/>). <paramref name="configureClient"/> sets the base address and headers.
    /// </summary>
    public static IHttpClientBuilder AddLoopFulfilResilientHttpClient<TClient, TImplementation>(
        this IServiceCollection services,
        string name,
        Action<IServiceProvider, HttpClient> configureClient)
        where TClient : class
        where TImplementation : class, TClient
        => services.AddHttpClient<TClient, TImplementation>(name, configureClient).AddLoopFulfilResilience();

    /// <summary>
    /// An <c>HttpClient</c> with the resilience handler, without DI (CLI, tools). The caller owns and disposes it; keep one
    /// per remote API so the circuit breaker sees all calls.
    /// </summary>
    public static HttpClient CreateResilientHttpClient(Uri baseAddress, string name, HttpResilienceOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var handler = ResilientHttpHandler.Chain(
            HttpResiliencePipelines.Build(name, options, time, logger),
            name,
            time,
            new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
            logger ?? NullLogger.Instance);
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    private static HttpResiliencePipelineProvider PipelineProvider(IServiceProvider services) =>
        services.GetService<HttpResiliencePipelineProvider>()
        ?? throw new InvalidOperationException("An HttpClient with the LoopFulfil resilience handler needs AddLoopFulfilHttpResilience (the composition root AddLoopFulfil calls it).");

    private sealed class ResilienceConfigurationMarker;
}
