using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Faults;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Tests.Chaos;

/// <summary>The chaos run's instruments: the fault proxy's after-commit faults and the storage request counter.</summary>
public sealed class ChaosProxyTests
{
    [Fact]
    public async Task After_commit_faults_reach_the_server_every_time_and_a_stall_is_ended_by_the_clients_timeout()
    {
        var committed = 0;
        await using var server = await LoopbackApp.StartAsync(_ => { }, app => app.MapPost("/write", () =>
        {
            Interlocked.Increment(ref committed);
            return Results.Ok(new { id = 1 });
        }));
        await using var proxy = await FaultProxy.StartAsync(server.BaseAddress, new FaultProxyOptions
        {
            Seed = 7,
            AfterCommitRate = 1.0,
            StallFor = TimeSpan.FromMinutes(10),
        });
        using var client = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        const int requests = 12;
        int unavailable = 0, lost = 0, timedOut = 0;

        for (var i = 0; i < requests; i++)
        {
            try
            {
                using var response = await client.PostAsync(new Uri("write", UriKind.Relative), new StringContent("{}"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                unavailable++;
            }
            catch (HttpRequestException)
            {
                lost++;
            }
            catch (TaskCanceledException)
            {
                // HttpClient.Timeout: the only way a stall (held for 10 minutes) ends here.
                timedOut++;
            }
        }

        Assert.Equal(requests, committed);
        Assert.Equal(proxy.Count(SandboxFault.ServerErrorAfterCommit), unavailable);
        Assert.Equal(proxy.Count(SandboxFault.DropAfterCommit), lost);
        Assert.Equal(proxy.Count(SandboxFault.DelayAfterCommit), timedOut);
        Assert.True(timedOut > 0 && lost > 0 && unavailable > 0, $"503 {unavailable}, dropped {lost}, stalled {timedOut}: every after-commit kind occurs in 12 requests (seeded)");
    }

    [Fact]
    public async Task Counting_relay_passes_signed_storage_requests_unchanged_and_counts_each_one()
    {
        var connection = await AzuriteTestServer.GetConnectionStringAsync();
        var endpoints = connection.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && p[0].EndsWith("Endpoint", StringComparison.Ordinal)).ToDictionary(p => p[0], p => new Uri(p[1]));
        await using var queueRelay = RequestCountingRelay.Start(endpoints["QueueEndpoint"]);
        await using var tableRelay = RequestCountingRelay.Start(endpoints["TableEndpoint"]);
        var relayed = AzuriteProcess.BuildConnectionString(endpoints["BlobEndpoint"].Port, queueRelay.Port, tableRelay.Port);

        // Shared Key signs the path and headers as sent: a relay that changed a byte would get 403s here.
        var table = new TableClient(relayed, AzuriteTestServer.UniqueTableName("relay"));
        await table.CreateIfNotExistsAsync();
        for (var i = 0; i < 5; i++)
        {
            await table.AddEntityAsync(new TableEntity("p", $"r{i}") { ["Amount"] = i * 1.5 });
        }

        var read = await table.GetEntityAsync<TableEntity>("p", "r3");
        var queue = new QueueClient(relayed, AzuriteTestServer.UniqueQueueName("relay"));
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("one");
        await queue.SendMessageAsync("two");
        var received = await queue.ReceiveMessagesAsync(maxMessages: 2);

        Assert.Equal(4.5, read.Value.GetDouble("Amount"));
        Assert.Equal(["one", "two"], received.Value.Select(m => m.MessageText).Order());
        Assert.Equal(1 + 5 + 1, tableRelay.Requests);
        Assert.Equal(1 + 2 + 1, queueRelay.Requests);
        Assert.Equal(0, tableRelay.UncountedConnections + queueRelay.UncountedConnections);
    }
}
