using System.Collections.Concurrent;
using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static LoopFulfil.Tests.LocalHost.LocalHostTestSupport;

namespace LoopFulfil.Tests.Messaging;

/// <summary>Bodies over the queue envelope limit (Loop webhooks reach 1 MiB) travel by claim-check through Blob storage.</summary>
public sealed class ClaimCheckTests
{
    [Fact]
    public async Task One_mebibyte_body_reaches_the_handler_byte_for_byte_while_the_queue_carries_a_small_envelope()
    {
        var (host, queue, blobs, handled, _) = await StartHostAsync(start: false);
        using (host)
        {
            var body = LargeJson(1_048_576);
            var sender = host.Services.GetRequiredService<IMessageSender>();

            // Sent before the dispatcher starts, so the queued envelope can be looked at.
            await sender.SendAsync(new OutboundMessage(queue, body, "big-1", "return-9", new Dictionary<string, string> { ["topic"] = "return" }), CancellationToken.None);
            var queued = Assert.Single(await PeekAllAsync(host.Services.GetRequiredService<IQueueStore>(), queue));
            await host.StartAsync();

            Assert.True(queued.Body.IsEmpty);
            Assert.True(queued.Properties.ContainsKey(ClaimCheck.ReferenceProperty));
            await WaitUntilAsync(() => !handled.IsEmpty, "the large message handled");
            await host.StopAsync();

            var message = Assert.Single(handled);
            Assert.Equal(body, message.Body.ToArray());
            Assert.Equal("return", message.Properties["topic"]);
            Assert.False(message.Properties.ContainsKey(ClaimCheck.ReferenceProperty));
            var stored = Assert.Single(await ListAsync(blobs));
            Assert.Equal(body.Length, stored.Length);
        }
    }

    [Fact]
    public async Task Claim_check_whose_body_is_gone_goes_to_the_poison_queue_as_a_permanent_failure()
    {
        var (host, queue, _, handled, poisoned) = await StartHostAsync();
        using (host)
        {
            var properties = new Dictionary<string, string> { [ClaimCheck.ReferenceProperty] = ClaimCheck.Reference("gone", Encoding.UTF8.GetBytes("x")) };

            // The dispatcher creates its queue in the background after start; create it here so the send cannot win that race.
            var store = host.Services.GetRequiredService<IQueueStore>();
            await store.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
            await SendEnvelopeAsync(store, queue, "lost-1", null, string.Empty, properties);

            await WaitUntilAsync(() => !poisoned.IsEmpty, "the message poisoned");
            await host.StopAsync();
            Assert.Empty(handled);
            Assert.Equal(PoisonReasons.PermanentFailure, Assert.Single(poisoned).Reason);
        }
    }

    [Fact]
    public async Task Prune_removes_only_claims_stored_longer_ago_than_the_retention()
    {
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
        var claims = new ClaimCheck(blobs, time);
        await claims.StoreAsync("old", LargeJson(100_000), CancellationToken.None);
        time.Advance(ClaimCheck.Retention + TimeSpan.FromSeconds(1));
        var reference = await claims.StoreAsync("new", LargeJson(70_000), CancellationToken.None);

        var pruned = await claims.PruneAsync(CancellationToken.None);
        var resolved = await claims.ResolveAsync(
            new InboundMessage(ReadOnlyMemory<byte>.Empty, "m", null, 1, new Dictionary<string, string> { [ClaimCheck.ReferenceProperty] = reference }),
            CancellationToken.None);

        Assert.Equal(1, pruned);
        Assert.Equal(LargeJson(70_000), resolved.Body.ToArray());
        Assert.Equal("new", Assert.Single(await ListAsync(blobs)).Name);
    }

    private static async Task<(IHost Host, string Queue, IBlobStore Blobs, ConcurrentQueue<InboundMessage> Handled, ConcurrentQueue<PoisonedMessage> Poisoned)> StartHostAsync(bool start = true)
    {
        var account = StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync());
        var queue = AzuriteTestServer.UniqueQueueName("claim");
        var tables = new AzureTableStore(account, tablePrefix: AzuriteTestServer.UniqueTableName("c"));
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var handled = new ConcurrentQueue<InboundMessage>();
        var sink = new Sink();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LocalHost:VisibilityTimeoutSeconds"] = "5",
            ["LocalHost:PollIntervalMilliseconds"] = "50",
            ["LocalHost:MaxRetryBackoffSeconds"] = "0",
        });
        builder.Services.AddSingleton<IQueueStore>(new AzureQueueStore(account));
        builder.Services.AddSingleton<ITableStore>(tables);
        builder.Services.AddSingleton<IBlobStore>(blobs);
        builder.Services.AddLoopFulfilLocalHost(builder.Configuration);
        builder.Services.AddSingleton<IPoisonMessageSink>(sink);
        builder.Services.AddLoopFulfilQueueHandler(queue, (_, message, _) =>
        {
            handled.Enqueue(message);
            return Task.CompletedTask;
        });
        var host = builder.Build();
        if (start)
        {
            await host.StartAsync();
        }

        return (host, queue, blobs, handled, sink.Poisoned);
    }

    private static byte[] LargeJson(int size)
    {
        var text = new StringBuilder("{\"pad\":\"");
        var i = 0;
        while (text.Length < size - 2)
        {
            text.Append((char)('a' + (i++ % 26)));
        }

        return Encoding.UTF8.GetBytes(text.Append("\"}").ToString());
    }

    private static async Task<List<StoredBlob>> ListAsync(IBlobStore blobs)
    {
        var all = new List<StoredBlob>();
        await foreach (var blob in blobs.ListAsync(ClaimCheck.Container, null, CancellationToken.None))
        {
            all.Add(blob);
        }

        return all;
    }

    private sealed class Sink : IPoisonMessageSink
    {
        public ConcurrentQueue<PoisonedMessage> Poisoned { get; } = new();

        public Task OnPoisonedAsync(PoisonedMessage message, CancellationToken cancellationToken)
        {
            Poisoned.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
