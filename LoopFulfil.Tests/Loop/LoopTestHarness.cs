using System.Collections.Concurrent;
using LoopFulfil.Core.Loop;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Sandbox.Loop;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Loop;

/// <summary>A Loop sandbox on loopback and an <see cref="ILoopClient"/> wired exactly as production wires it.</summary>
internal sealed class LoopTestHarness : IAsyncDisposable
{
    private LoopTestHarness(LoopSandbox sandbox, ServiceProvider services)
    {
        Sandbox = sandbox;
        Services = services;
        Client = services.GetRequiredService<ILoopClient>();
    }

    public LoopSandbox Sandbox { get; }

    public ServiceProvider Services { get; }

    public ILoopClient Client { get; }

    public static async Task<LoopTestHarness> StartAsync(LoopSandboxOptions? sandboxOptions = null, IDictionary<string, string?>? settings = null)
    {
        var sandbox = await LoopSandbox.StartAsync(sandboxOptions);
        var values = new Dictionary<string, string?>
        {
            ["Loop:BaseUrl"] = sandbox.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = sandbox.ApiKey,
            ["Loop:TimeoutSeconds"] = "20",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        // The raw client, without the retry pipeline: these tests assert what each single attempt maps to.
        var services = new ServiceCollection().AddLogging().AddLoopFulfilLoop(configuration, configureOuterHandlers: null).BuildServiceProvider(validateScopes: true);
        return new LoopTestHarness(sandbox, services);
    }

    public int RequestsTo(string pathSuffix)
        => Sandbox.Requests.Count(r => r.Path.EndsWith(pathSuffix, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Sandbox.DisposeAsync();
    }
}

/// <summary>A loopback endpoint that records webhook bodies and signatures as received.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly LoopbackApp _app;

    private WebhookReceiver(LoopbackApp app, ConcurrentQueue<(byte[] Body, string Signature)> received)
    {
        _app = app;
        Received = received;
    }

    public ConcurrentQueue<(byte[] Body, string Signature)> Received { get; }

    public Uri Url => new(_app.BaseAddress, "loop/webhooks");

    public static async Task<WebhookReceiver> StartAsync()
    {
        var received = new ConcurrentQueue<(byte[] Body, string Signature)>();
        var app = await LoopbackApp.StartAsync(_ => { }, web => web.MapPost("/loop/webhooks", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            received.Enqueue((buffer.ToArray(), request.Headers["X-Loop-Signature"].ToString()));
            return Results.Ok();
        }));
        return new WebhookReceiver(app, received);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
