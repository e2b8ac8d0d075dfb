using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.CommerceSync;

/// <summary>
/// Both sandboxes over real HTTP, Azurite for the mappings, and <see cref="CommerceSyncJob"/> composed exactly as the
/// host composes it (storage, Fulfil client, Loop client with its limiter and resilience, commerce sync).
/// The job and the Fulfil sandbox share <see cref="Clock"/>, a <see cref="FakeTimeProvider"/> that moves 1 ms each
/// time it is read, so stamps strictly increase as in a real Fulfil and no test reads the wall clock; HTTP retries
/// and the Loop limiter keep the system clock (their waits would never end on a clock nobody advances).
/// </summary>
internal sealed class CommerceSyncHarness : IAsyncDisposable
{
    private CommerceSyncHarness(FakeTimeProvider clock, FulfilSandbox fulfil, LoopSandbox loop, ServiceProvider services)
    {
        Clock = clock;
        Fulfil = fulfil;
        Loop = loop;
        Services = services;
    }

    /// <summary>The time of the commerce sync and of the Fulfil sandbox (sale dates, write and create dates).</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>Today on <see cref="Clock"/>.</summary>
    public DateOnly Today => DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    public ServiceProvider Services { get; }

    public CommerceSyncJob Job => Services.GetRequiredService<CommerceSyncJob>();

    public CommerceMappingStore Mappings => Services.GetRequiredService<CommerceMappingStore>();

    public ExceptionService Exceptions => Services.GetRequiredService<ExceptionService>();

    public static async Task<CommerceSyncHarness> StartAsync(IDictionary<string, string?>? settings = null, bool seedDemoData = true, Action<IServiceCollection>? configure = null)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        var fulfil = await FulfilSandbox.StartAsync(new FulfilSandboxOptions { SeedDemoData = seedDemoData, TimeProvider = clock });
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
        var collection = new ServiceCollection();
        configure?.Invoke(collection);
        var services = collection
            .AddLogging()
            .AddLoopFulfilStorage(configuration)
            .AddLoopFulfilHttpResilience(configuration)
            .AddLoopFulfilFulfil(configuration)
            .AddLoopFulfilLoop(configuration)
            .AddSingleton(sp => ActivatorUtilities.CreateInstance<CommerceSyncJob>(sp, (TimeProvider)clock))
            .AddLoopFulfilCommerceSync(configuration)
            .AddLoopFulfilExceptions(configuration)
            .AddSingleton<IMessageSender>(new RecordingMessageSender())
            .BuildServiceProvider(validateScopes: true);
        return new CommerceSyncHarness(clock, fulfil, loop, services);
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
