using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Shadow;

public static class ShadowServiceCollectionExtensions
{
    /// <summary>
    /// <c>Integration:Mode</c> (Live by default) and, for shadow mode, the write seam on the Fulfil and Loop
    /// <c>HttpClient</c>s and the <see cref="ShadowPlanStore"/>. The handlers are always present and read the mode on
    /// each request, so a restart with <c>Integration__Mode=Live</c> is the whole switch.
    /// </summary>
    public static IServiceCollection AddLoopFulfilShadowMode(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<IntegrationOptions>()
            .Bind(configuration.GetSection(IntegrationOptions.Section))
            .Validate(o => Enum.IsDefined(o.Mode), "Integration:Mode must be Live or Shadow.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ShadowPlanStore(sp.GetRequiredService<ITableStore>()));
        services.TryAddTransient<ShadowReportBuilder>();
        services.AddHttpClient(FulfilServiceCollectionExtensions.HttpClientName).AddHttpMessageHandler(sp => Handler(sp, ShadowWriteHandler.FulfilTarget));
        services.AddHttpClient(LoopClient.HttpClientName).AddHttpMessageHandler(sp => Handler(sp, ShadowWriteHandler.LoopTarget));
        return services;
    }

    private static ShadowWriteHandler Handler(IServiceProvider sp, string target) => new(
        target,
        sp.GetRequiredService<IOptionsMonitor<IntegrationOptions>>(),
        sp.GetRequiredService<ShadowPlanStore>(),
        sp.GetRequiredService<TimeProvider>(),
        sp.GetRequiredService<ILogger<ShadowWriteHandler>>());
}
