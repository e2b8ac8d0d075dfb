using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Storage;

public class AzuriteProcessTests
{
    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Started_azurite_serves_tables_queues_and_blobs_and_dispose_stops_its_process_tree()
    {
        var azurite = await AzuriteProcess.StartNewAsync(TimeSpan.FromSeconds(90));
        int pid;
        try
        {
            Assert.True(azurite.OwnsProcess);
            pid = azurite.ProcessId!.Value;
            var account = StorageAccount.FromConnectionString(azurite.ConnectionString);
            Assert.Equal($"http://127.0.0.1:{azurite.TablePort}/devstoreaccount1", account.TableEndpoint!.AbsoluteUri.TrimEnd('/'));
            Assert.Equal($"http://127.0.0.1:{azurite.QueuePort}/devstoreaccount1", account.QueueEndpoint!.AbsoluteUri.TrimEnd('/'));
            Assert.Equal($"http://127.0.0.1:{azurite.BlobPort}/devstoreaccount1", account.BlobEndpoint!.AbsoluteUri.TrimEnd('/'));

            await new AzureTableStore(account).CreateTableIfNotExistsAsync("probe", CancellationToken.None);
            await new AzureQueueStore(account).CreateQueueIfNotExistsAsync("probe", CancellationToken.None);
            var blobs = new AzureBlobStore(account);
            await blobs.UploadAsync("probe", "b", new byte[] { 1, 2, 3 }, null, CancellationToken.None);
            Assert.Equal(new byte[] { 1, 2, 3 }, await blobs.DownloadAsync("probe", "b", CancellationToken.None));
        }
        finally
        {
            await azurite.DisposeAsync();
        }

        var stopped = false;
        for (var i = 0; i < 100 && !stopped; i++)
        {
            stopped = !await AcceptsAsync(azurite.TablePort) && !await AcceptsAsync(azurite.QueuePort);
            if (!stopped)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(stopped, "Azurite still listens after dispose");
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    [Fact]
    public async Task Environment_variable_attaches_to_a_running_azurite_without_starting_one()
    {
        var shared = await AzuriteTestServer.GetConnectionStringAsync();
        var before = Environment.GetEnvironmentVariable(AzuriteProcess.ExistingConnectionStringVariable);
        Environment.SetEnvironmentVariable(AzuriteProcess.ExistingConnectionStringVariable, shared);
        try
        {
            await using var attached = await AzuriteProcess.StartAsync();

            Assert.False(attached.OwnsProcess);
            Assert.Null(attached.ProcessId);
            Assert.Equal(shared, attached.ConnectionString);
        }
        finally
        {
            Environment.SetEnvironmentVariable(AzuriteProcess.ExistingConnectionStringVariable, before);
        }

        // Disposing an attached instance must leave the shared server running.
        var store = new AzureTableStore(StorageAccount.FromConnectionString(shared));
        await store.CreateTableIfNotExistsAsync(AzuriteTestServer.UniqueTableName(), CancellationToken.None);
    }

    [Fact]
    public void Repository_root_is_found_above_the_test_output_directory()
    {
        var root = AzuriteProcess.FindRepositoryRoot();

        Assert.NotNull(root);
        Assert.True(File.Exists(Path.Combine(root, "package.json")));
    }
}
