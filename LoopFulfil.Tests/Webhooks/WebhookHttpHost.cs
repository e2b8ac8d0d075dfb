using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.LocalHost;
using LoopFulfil.Sandbox.Azurite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// The local host's webhook route on 127.0.0.1 (serve's web host, <see cref="ServeRoutes.MapWebhook"/>, the real
/// ingress, Azurite queues and exception records) without the queue consumers, so what the route enqueued stays
/// in <c>loop-returns</c> to be read back. An Azurite of its own: the route uses the fixed queue names.
/// </summary>
public sealed class WebhookHttpHost : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private WebApplication? _app;

    public Uri WebhookUrl { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.StartNewAsync(TimeSpan.FromSeconds(90));
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = _azurite.ConnectionString,
            ["LocalHost:Urls"] = "http://127.0.0.1:0",
            ["Webhooks:Secret"] = WebhookTestKit.Secret,

            // Duplicate detection (tested with the sender) would only drop repeats of a body, answered 202 all the
            // same; off, each accepted body is one queue write, which keeps 10,000 cases quick on two cores.
            ["LocalHost:DuplicateDetectionWindowHours"] = "0",
            ["Logging:LogLevel:Default"] = "Error",
        }).Build();
        var builder = ServeHost.CreateBuilder(configuration, TextWriter.Null);
        builder.Services.AddLoopFulfilStorage(configuration).AddLoopFulfilExceptions(configuration).AddLoopFulfilWebhooks(configuration).AddLoopFulfilLocalHost(configuration);
        _app = builder.Build();
        ServeRoutes.MapWebhook(_app);
        await _app.StartAsync();
        WebhookUrl = new Uri(ServeHost.ListeningAddress(_app), ServeRoutes.WebhookPath.TrimStart('/'));
    }

    /// <summary>
    /// SHA-256 (hex) of every body on <c>loop-returns</c>, claim-checked ones put back together. Each message read
    /// stays hidden for an hour (nothing consumes them here), so the next receive brings new ones.
    /// </summary>
    public async Task<HashSet<string>> DrainQueuedBodyHashesAsync()
    {
        var queues = Services.GetRequiredService<IQueueStore>();
        var claims = new ClaimCheck(Services.GetRequiredService<IBlobStore>(), TimeProvider.System);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var batch = await queues.ReceiveAsync(QueueNames.LoopReturns, 32, TimeSpan.FromHours(1), CancellationToken.None);
            if (batch.Count == 0)
            {
                return hashes;
            }

            foreach (var stored in batch)
            {
                Assert.True(LocalQueueEnvelope.TryDecode(stored.Body, out var envelope, out var error), error);
                var message = new InboundMessage(envelope!.Body, envelope.MessageId, envelope.SessionId, 1, envelope.Properties);
                var resolved = await claims.ResolveAsync(message, CancellationToken.None);
                hashes.Add(WebhookTestKit.Sha256Hex(resolved.Body.Span));
            }
        }
    }

    /// <summary>Every exception record (without raw events).</summary>
    public async Task<List<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (var record in Services.GetRequiredService<ExceptionService>().ListAsync(null, null, CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
