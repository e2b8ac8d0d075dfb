using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace LoopFulfil.Tests.Loop;

/// <summary>
/// The limiter under load against a Loop sandbox that enforces the limit itself (429 over it, counted on arrival).
/// Windows are time-compressed; assertions are counts (never over the limit, never a 429). Throughput is a speed
/// figure, so it is printed here and measured as a ratio in the commerce-backfill benchmark, never asserted.
/// </summary>
public class LoopRateLimitLoadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Thirty_two_callers_never_make_the_server_count_more_than_the_limit_or_answer_429()
    {
        const int limit = 40;
        const int total = 200;
        var window = TimeSpan.FromSeconds(2);
        await using var h = await LoopTestHarness.StartAsync(
            new LoopSandboxOptions { RateLimit = limit, RateLimitWindow = window },
            new Dictionary<string, string?>
            {
                ["Loop:RequestsPerMinute"] = limit.ToString(CultureInfo.InvariantCulture),
                ["Loop:RateLimitWindow"] = "00:00:02",
                ["Loop:RateLimitWindowPadding"] = "00:00:00.040",
            });

        var next = 0;
        var callers = Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= total)
            {
                await h.Client.ListWebhooksAsync(CancellationToken.None);
            }
        });
        await Task.WhenAll(callers).WaitAsync(Generous);

        var requests = h.Sandbox.Requests;
        Assert.Equal(total, requests.Count);
        Assert.DoesNotContain(requests, r => r.StatusCode == 429);
        Assert.InRange(h.Sandbox.MaxRequestsInAnyWindow(window), 1, limit);
        var ratio = SteadyRate(requests, limit, window);
        output.WriteLine($"One process, 32 callers: {ratio:0.000} of the limit, busiest window {h.Sandbox.MaxRequestsInAnyWindow(window)}/{limit}.");
    }

    [Fact]
    public async Task Three_instances_sharing_a_key_through_the_table_stay_within_the_limit_together()
    {
        const int limit = 80;
        var window = TimeSpan.FromSeconds(5);
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { RateLimit = limit, RateLimitWindow = window });
        var table = AzuriteTestServer.UniqueTableName("rate");
        var instances = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ => new Instance(sandbox, SharedOptions(limit, window, table), await AzuriteTestServer.CreateTableStoreAsync())));
        try
        {
            await Task.WhenAll(instances.Select(i => i.HammerAsync(110, callers: 8))).WaitAsync(Generous);
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }
        }

        var requests = sandbox.Requests;
        Assert.Equal(330, requests.Count);
        Assert.DoesNotContain(requests, r => r.StatusCode == 429);
        Assert.InRange(sandbox.MaxRequestsInAnyWindow(window), 1, limit);
        var ratio = SteadyRate(requests, limit, window);
        output.WriteLine($"Three instances: {ratio:0.000} of the limit, busiest window {sandbox.MaxRequestsInAnyWindow(window)}/{limit}.");
        Assert.All(instances, i => Assert.DoesNotContain(i.Log.Entries, e => e.Level >= LogLevel.Warning));
    }

    [Fact]
    public async Task When_the_table_goes_down_each_instance_falls_back_to_its_share_without_the_server_seeing_more_than_the_limit()
    {
        const int limit = 60;
        var window = TimeSpan.FromSeconds(4);
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { RateLimit = limit, RateLimitWindow = window });
        var table = AzuriteTestServer.UniqueTableName("rate");
        var deadStore = new AzureTableStore(StorageAccount.FromConnectionString(DeadConnectionString()), clientOptions: FastFailing());
        var instances = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            new Instance(sandbox, SharedOptions(limit, window, table), new SwitchableTableStore(await AzuriteTestServer.CreateTableStoreAsync(), deadStore))));
        try
        {
            // Full speed on the table first, so the outage starts with the window full of blocks.
            await Task.WhenAll(instances.Select(i => i.HammerAsync(40, callers: 8))).WaitAsync(Generous);
            foreach (var instance in instances)
            {
                ((SwitchableTableStore)instance.Store).Down = true;
            }

            await Task.WhenAll(instances.Select(i => i.HammerAsync(30, callers: 8))).WaitAsync(Generous);
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }
        }

        var requests = sandbox.Requests;
        Assert.Equal(210, requests.Count);
        Assert.DoesNotContain(requests, r => r.StatusCode == 429);
        Assert.InRange(sandbox.MaxRequestsInAnyWindow(window), 1, limit);
        Assert.All(instances, i => Assert.Contains(i.Log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("falls back", StringComparison.Ordinal)));
    }

    // Requests per window beyond the first window's burst, as a share of the limit: what the limiter sustains.
    private static double SteadyRate(IReadOnlyList<LoopSandboxRequest> requests, int limit, TimeSpan window)
    {
        var span = requests[^1].At - requests[0].At;
        return (requests.Count - limit) / (span / window) / limit;
    }

    private static LoopOptions SharedOptions(int limit, TimeSpan window, string table) => new()
    {
        RequestsPerMinute = limit,
        RateLimitWindow = window,
        // Blocks count from claim to the last response, so delivery delays need no padding; it is there for clock
        // skew between instances (none here) and Loop's own counting.
        RateLimitWindowPadding = TimeSpan.FromMilliseconds(100),
        SharedRateLimit = true,
        SharedRateLimitTable = table,
        SharedRateLimitBlockHold = TimeSpan.FromMilliseconds(250),
        SharedRateLimitMaxBlock = 10,
        SharedRateLimitExpectedInstances = 3,
    };

    private static StorageClientOptions FastFailing()
    {
        var options = new StorageClientOptions();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        return options;
    }

    // A loopback port nobody listens on: connections are refused, as when the storage account is unreachable.
    private static string DeadConnectionString()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    /// <summary>One simulated process: its own limiter, table store and HttpClient, calling Loop like LoopClient does.</summary>
    private sealed class Instance : IDisposable
    {
        private readonly LoopSandbox _sandbox;
        private readonly LoopRateLimiter _limiter;
        private readonly HttpClient _http;

        public Instance(LoopSandbox sandbox, LoopOptions options, ITableStore store)
        {
            _sandbox = sandbox;
            Store = store;
            _limiter = new LoopRateLimiter(Options.Create(options), TimeProvider.System, store, Log);
            _http = new HttpClient(new LoopRateLimitHandler(_limiter) { InnerHandler = new SocketsHttpHandler() })
            {
                BaseAddress = new Uri(sandbox.ApiBaseUrl, "2026-10/"),
            };
        }

        public ITableStore Store { get; }

        public ListLogger<LoopRateLimiter> Log { get; } = new();

        public async Task HammerAsync(int requests, int callers)
        {
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= requests)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "webhooks");
                    request.Headers.Add(LoopClient.AuthorizationHeader, _sandbox.ApiKey);
                    using var response = await _http.SendAsync(request);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }));
        }

        public void Dispose()
        {
            _http.Dispose();
            _limiter.Dispose();
        }
    }

    /// <summary>Azurite until <see cref="Down"/>, then a storage endpoint that refuses connections.</summary>
    private sealed class SwitchableTableStore(ITableStore up, ITableStore down) : ITableStore
    {
        public volatile bool Down;

        private ITableStore Current => Down ? down : up;

        public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => Current.CreateTableIfNotExistsAsync(table, cancellationToken);

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => Current.GetAsync(table, partitionKey, rowKey, cancellationToken);

        public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => Current.InsertAsync(table, entity, cancellationToken);

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => Current.UpsertAsync(table, entity, mode, cancellationToken);

        public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => Current.UpdateAsync(table, entity, mode, cancellationToken);

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => Current.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => Current.QueryAsync(table, filter, cancellationToken);

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => Current.SubmitBatchAsync(table, operations, cancellationToken);
    }
}
