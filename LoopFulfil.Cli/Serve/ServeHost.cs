using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.LocalHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Cli.Serve;

/// <summary>Builds and starts the ASP.NET Core host of <c>loopfulfil serve</c>.</summary>
internal static class ServeHost
{
    /// <summary>
    /// Starts Kestrel on <c>LocalHost:Urls</c> with the Core composition (<see cref="ServeComposition"/>) and the routes
    /// (<see cref="ServeRoutes"/>). Invalid settings fail here, before anything listens, with the options' messages.
    /// </summary>
    public static async Task<RunningHost> StartAsync(IConfiguration configuration, TextWriter log, SandboxEnvironment? sandbox, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder(configuration, log);
        builder.Services.AddLoopFulfilServe(configuration);

        var app = builder.Build();
        ServeRoutes.Map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new RunningHost(app, ListeningAddress(app), sandbox);
    }

    /// <summary>The first address Kestrel listens on (with the real port when <c>LocalHost:Urls</c> asked for port 0).</summary>
    internal static Uri ListeningAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The started host reports no address it listens on.");
        return new Uri(address.TrimEnd('/') + "/");
    }

    /// <summary>The web host of serve without its services: configuration, logging, where to listen and Kestrel's limits.</summary>
    internal static WebApplicationBuilder CreateBuilder(IConfiguration configuration, TextWriter log)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "loopfulfil",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddProvider(new TextWriterLoggerProvider(log));

        var urls = configuration.GetSection(LocalHostOptions.Section).Get<LocalHostOptions>()?.Urls ?? new LocalHostOptions().Urls;
        builder.WebHost.UseUrls(urls);
        return builder;
    }
}
