using System.Net;
using System.Net.Sockets;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Tests.Storage;

/// <summary>How the stores classify failures: a scripted storage endpoint over real HTTP on loopback.</summary>
public class StorageResilienceTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static StorageClientOptions FastRetries()
    {
        var options = new StorageClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        return options;
    }

    /// <summary>A fake Table endpoint answering each request with the next scripted status (the last one repeats).</summary>
    private static async Task<(LoopbackApp App, Func<int> Requests)> ScriptedAsync(params int[] statuses)
    {
        var count = 0;
        var app = await LoopbackApp.StartAsync(_ => { }, web => web.Run(async context =>
        {
            var n = Interlocked.Increment(ref count);
            var status = statuses[Math.Min(n - 1, statuses.Length - 1)];
            context.Response.StatusCode = status;
            context.Response.Headers.ETag = "W/\"datetime'2025-01-01T00%3A00%3A00Z'\"";
            if (status >= 400)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync($"{{\"odata.error\":{{\"code\":\"Scripted{status}\",\"message\":{{\"lang\":\"en-US\",\"value\":\"scripted\"}}}}}}");
            }
        }));
        return (app, () => Volatile.Read(ref count));
    }

    private static AzureTableStore TableStoreAt(Uri baseAddress) => new(
        StorageAccount.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteProcess.AccountKey};TableEndpoint={baseAddress}devstoreaccount1"),
        clientOptions: FastRetries());

    [Fact]
    public async Task Server_errors_are_retried_by_the_pipeline_and_a_later_success_wins()
    {
        var (app, requests) = await ScriptedAsync(503, 500, 204);
        await using var _ = app;

        var outcome = await TableStoreAt(app.BaseAddress).InsertAsync("orders", new TableEntity("p", "r"), Ct);

        Assert.Equal(InsertOutcome.Inserted, outcome);
        Assert.Equal(3, requests());
    }

    [Fact]
    public async Task Server_errors_that_outlast_the_retries_are_transient()
    {
        var (app, requests) = await ScriptedAsync(503);
        await using var _ = app;

        var ex = await Assert.ThrowsAsync<TransientStorageException>(
            () => TableStoreAt(app.BaseAddress).GetAsync("orders", "p", "r", Ct));

        Assert.IsAssignableFrom<TransientIntegrationException>(ex);
        Assert.Equal(503, ex.Status);
        Assert.Equal(3, requests()); // first try + MaxRetries
    }

    [Fact]
    public async Task Client_errors_are_permanent_and_not_retried()
    {
        var (app, requests) = await ScriptedAsync(400);
        await using var _ = app;

        var ex = await Assert.ThrowsAsync<PermanentStorageException>(
            () => TableStoreAt(app.BaseAddress).UpsertAsync("orders", new TableEntity("p", "r"), UpsertMode.Merge, Ct));

        Assert.IsAssignableFrom<PermanentIntegrationException>(ex);
        Assert.Equal("Scripted400", ex.ErrorCode);
        Assert.Equal(1, requests());
    }

    [Fact]
    public async Task Unreachable_storage_is_transient_after_retries()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var tables = TableStoreAt(new Uri($"http://127.0.0.1:{port}/"));
        var queues = new AzureQueueStore(
            StorageAccount.FromConnectionString($"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteProcess.AccountKey};QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1"),
            FastRetries());

        await Assert.ThrowsAsync<TransientStorageException>(() => tables.GetAsync("orders", "p", "r", Ct));
        await Assert.ThrowsAsync<TransientStorageException>(() => queues.SendAsync("work", "x"u8.ToArray(), null, Ct));
    }

    [Fact]
    public async Task A_storage_call_that_times_out_on_every_try_is_transient()
    {
        var requests = 0;
        await using var app = await LoopbackApp.StartAsync(_ => { }, web => web.Run(async context =>
        {
            Interlocked.Increment(ref requests);
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        }));
        var options = FastRetries();
        options.Retry.MaxRetries = 1;
        options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(300);
        var store = new AzureTableStore(
            StorageAccount.FromConnectionString(
                $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteProcess.AccountKey};TableEndpoint={app.BaseAddress}devstoreaccount1"),
            clientOptions: options);

        var ex = await Assert.ThrowsAsync<TransientStorageException>(() => store.GetAsync("orders", "p", "r", Ct));

        Assert.Contains("did not answer", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, Volatile.Read(ref requests));
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_storage_failure()
    {
        var (app, _) = await ScriptedAsync(503);
        await using var __ = app;
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => TableStoreAt(app.BaseAddress).GetAsync("orders", "p", "r", cts.Token));
    }
}
