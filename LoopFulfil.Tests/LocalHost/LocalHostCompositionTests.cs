using System.Collections.Concurrent;
using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static LoopFulfil.Tests.LocalHost.LocalHostTestSupport;

namespace LoopFulfil.Tests.LocalHost;

/// <summary>The pieces as <c>loopfulfil serve</c> composes them: a generic host on Azurite.</summary>
public sealed class LocalHostCompositionTests
{
    [Fact]
    public async Task Host_delivers_sent_messages_to_scoped_handlers_and_reports_poison_to_the_sink()
    {
        var connection = await AzuriteTestServer.GetConnectionStringAsync();
        var account = StorageAccount.FromConnectionString(connection);
        var queue = AzuriteTestServer.UniqueQueueName("host");
        var handled = new ConcurrentQueue<(string MessageId, Guid Scope)>();
        var sink = new RecordingSink();

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LocalHost:VisibilityTimeoutSeconds"] = "2",
            ["LocalHost:PollIntervalMilliseconds"] = "50",
            ["LocalHost:MaxDeliveryCount"] = "2",
            ["LocalHost:MaxRetryBackoffSeconds"] = "0",
        });
        builder.Services.AddSingleton<IQueueStore>(new AzureQueueStore(account));
        builder.Services.AddSingleton<ITableStore>(new AzureTableStore(account, tablePrefix: AzuriteTestServer.UniqueTableName("h")));
        builder.Services.AddSingleton<IBlobStore>(await AzuriteTestServer.CreateBlobStoreAsync());
        builder.Services.AddLoopFulfilLocalHost(builder.Configuration);
        builder.Services.AddScoped<ScopeId>();
        builder.Services.AddSingleton<IPoisonMessageSink>(sink);
        builder.Services.AddLoopFulfilQueueHandler(queue, (services, message, _) =>
        {
            if (message.MessageId == "broken")
            {
                throw new InvalidOperationException("cannot map this return");
            }

            handled.Enqueue((message.MessageId, services.GetRequiredService<ScopeId>().Value));
            return Task.CompletedTask;
        });

        using var host = builder.Build();
        await host.StartAsync();
        var sender = host.Services.GetRequiredService<IMessageSender>();
        foreach (var id in new[] { "ok-1", "broken", "ok-2", "ok-1" })
        {
            await sender.SendAsync(new OutboundMessage(queue, Encoding.UTF8.GetBytes("{}"), id, null, new Dictionary<string, string>()), CancellationToken.None);
        }

        await WaitUntilAsync(() => handled.Count >= 2 && !sink.Poisoned.IsEmpty, "two handled and one poisoned");
        await host.StopAsync();

        Assert.Equal(["ok-1", "ok-2"], handled.Select(h => h.MessageId).Order());
        Assert.Equal(2, handled.Select(h => h.Scope).Distinct().Count());
        var poisoned = Assert.Single(sink.Poisoned);
        Assert.Equal("broken", poisoned.Message.MessageId);
        Assert.Equal(2, poisoned.Message.DeliveryCount);
    }

    private sealed class ScopeId
    {
        public Guid Value { get; } = Guid.NewGuid();
    }

    private sealed class RecordingSink : IPoisonMessageSink
    {
        public ConcurrentQueue<PoisonedMessage> Poisoned { get; } = new();

        public Task OnPoisonedAsync(PoisonedMessage message, CancellationToken cancellationToken)
        {
            Poisoned.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
