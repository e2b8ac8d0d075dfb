using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Sandbox.Hosting;

/// <summary>
/// A small ASP.NET Core app bound to 127.0.0.1 (a free port unless one is given), for the simulated APIs.
/// Network traffic from tests and demos never leaves loopback.
/// </summary>
public sealed class LoopbackApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackApp(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>e.g. http://127.0.0.1:53123/ (always ends with a slash).</summary>
    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LoopbackApp> StartAsync(
        Action<IServiceCollection> configureServices,
        Action<WebApplication> mapRoutes,
        int port = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configureServices);
        ArgumentNullException.ThrowIfNull(mapRoutes);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        configureServices(builder.Services);
        var app = builder.Build();
        mapRoutes(app);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackApp(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
