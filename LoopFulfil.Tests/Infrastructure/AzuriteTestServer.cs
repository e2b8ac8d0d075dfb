using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Azurite;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>
/// One Azurite for the whole test run, started on first use and stopped when the test process exits.
/// Set LOOPFULFIL_TEST_STORAGE to a connection string to use an Azurite that is already running.
/// Tests share it, so each test uses its own table and queue names (<see cref="UniqueTableName"/>, <see cref="UniqueQueueName"/>).
/// </summary>
public static class AzuriteTestServer
{
    private static readonly Lazy<Task<AzuriteProcess>> Server = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string of the shared Azurite (started on first call, ~2.5 s).</summary>
    public static async Task<string> GetConnectionStringAsync() => (await Server.Value).ConnectionString;

    /// <summary>A table store on the shared Azurite.</summary>
    public static async Task<AzureTableStore> CreateTableStoreAsync() =>
        new(StorageAccount.FromConnectionString(await GetConnectionStringAsync()));

    /// <summary>A queue store on the shared Azurite.</summary>
    public static async Task<AzureQueueStore> CreateQueueStoreAsync() =>
        new(StorageAccount.FromConnectionString(await GetConnectionStringAsync()));

    /// <summary>A blob store on the shared Azurite whose containers carry a prefix no other test uses.</summary>
    public static async Task<AzureBlobStore> CreateBlobStoreAsync() =>
        new(StorageAccount.FromConnectionString(await GetConnectionStringAsync()), UniqueTableName("b").ToLowerInvariant());

    /// <summary>A table name no other test uses: letters and digits, starts with <paramref name="prefix"/> (letters only, keep it short).</summary>
    public static string UniqueTableName(string prefix = "t") => prefix + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A queue name no other test uses: lower-case letters, digits and hyphens.</summary>
    public static string UniqueQueueName(string prefix = "q") => $"{prefix.ToLowerInvariant()}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    private static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = await AzuriteProcess.StartAsync(TimeSpan.FromSeconds(90));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.Dispose();
        return azurite;
    }
}
