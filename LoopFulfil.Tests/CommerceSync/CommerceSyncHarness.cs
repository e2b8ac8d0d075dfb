using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.CommerceSync;

/// <summary>
/// Both sandboxes over real HTTP, Azurite for the mappings, and <see cref="CommerceSyncJob"/> composed exactly as the
/// host composes it (storage, Fulfil client, Loop client with its limiter and resilience, commerce sync).
/// </summary>
internal sealed class CommerceSyncHarness : IAsyncDisposable
{
    private CommerceSyncHarness(FulfilSandbox fulfil, LoopSandbox loop, ServiceProvider services)
    {
        Fulfil = fulfil;
        Loop = loop;
        Services = services;
    }

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    public ServiceProvider Services { get; }

    public CommerceSyncJob Job => Services.GetRequiredService<CommerceSyncJob>();

    public CommerceMappingStore Mappings => Services.GetRequiredService<CommerceMappingStore>();

    public ExceptionService Exceptions => Services.GetRequiredService<ExceptionService>();

    public static async Task<CommerceSyncHarness> StartAsync(IDictionary<string, string?>? settings = null, bool seedDemoData = true)
    {
        var fulfil = await FulfilSandbox.StartAsync(new FulfilSandboxOptions { SeedDemoData = seedDemoData });
        var loop = await LoopSandbox.StartAsync();
        var values = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = await AzuriteTestServer.GetConnectionStringAsync(),
            ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = fulfil.ApiKey,
            ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = loop.ApiKey,
            ["HttpResilience:MaxRetryAttempts"] = "2",
            ["HttpResilience:BaseDelay"] = "00:00:00.050",
            ["CommerceSync:TableName"] = AzuriteTestServer.UniqueTableName("cm"),
            // Exception records go to the fixed "exceptions" table: a prefix keeps each test's own.
            ["Storage:TablePrefix"] = AzuriteTestServer.UniqueTableName("t"),
            ["CommerceSync:WarehouseAddress1"] = "1 Depot Road",
            ["CommerceSync:WarehouseCity"] = "Springfield",
            ["CommerceSync:WarehouseCountryCode"] = "US",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddLoopFulfilStorage(configuration)
            .AddLoopFulfilFulfil(configuration)
            .AddLoopFulfilLoop(configuration)
            .AddLoopFulfilCommerceSync(configuration)
            .AddLoopFulfilExceptions(configuration)
            .AddSingleton<IMessageSender>(new RecordingMessageSender())
            .BuildServiceProvider(validateScopes: true);
        return new CommerceSyncHarness(fulfil, loop, services);
    }

    public Task<CommerceSyncResult> RunAsync(SyncMode mode, IProgress<SyncProgress>? progress = null) =>
        Job.RunAsync(mode, progress, CancellationToken.None);

    /// <summary>Loop writes so far (every resource).</summary>
    public int LoopWrites => Loop.CommerceWrites.Count;

    /// <summary>Writes made after <paramref name="before"/> writes had been made.</summary>
    public IReadOnlyList<LoopSandboxCommerceWrite> WritesSince(int before) => Loop.CommerceWrites.Skip(before).ToList();

    public Task<CommerceMapping?> MappingAsync(string kind, int fulfilId) =>
        Mappings.GetAsync(kind, CommerceMapper.ExternalId(fulfilId), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Loop.DisposeAsync();
        await Fulfil.DisposeAsync();
    }
}

/// <summary>Collects progress reports synchronously (Progress&lt;T&gt; posts to the thread pool and may report late).</summary>
internal sealed class ProgressLog : IProgress<SyncProgress>
{
    private readonly List<SyncProgress> _reports = [];

    public IReadOnlyList<SyncProgress> Reports
    {
        get
        {
            lock (_reports)
            {
                return [.. _reports];
            }
        }
    }

    public void Report(SyncProgress value)
    {
        lock (_reports)
        {
            _reports.Add(value);
        }
    }
}
