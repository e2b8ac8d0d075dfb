using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Health;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Health;

public class HealthCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Reachable_storage_is_healthy_and_the_probe_creates_then_reads_the_health_table()
    {
        var store = new ProbeTableStore();

        var report = await NewCheck(store).CheckAsync(CancellationToken.None);

        Assert.True(report.StorageReachable);
        Assert.True(report.Healthy);
        Assert.Equal(Now, report.CheckedAt);
        Assert.StartsWith("0.1.0", report.Version, StringComparison.Ordinal);
        Assert.Equal(["create health", "get health probe/probe"], store.Calls);
    }

    [Fact]
    public async Task Storage_that_fails_is_reported_unreachable_instead_of_throwing()
    {
        var store = new ProbeTableStore { Failure = new HttpRequestException("Connection refused (127.0.0.1:10002)") };

        var report = await NewCheck(store).CheckAsync(CancellationToken.None);

        Assert.False(report.StorageReachable);
        Assert.False(report.Healthy);
    }

    [Fact]
    public async Task Storage_that_hangs_and_ignores_cancellation_is_unreachable_once_the_probe_timeout_passes()
    {
        var store = new ProbeTableStore { HangIgnoringCancellation = true };
        var time = new ObservedFakeTimeProvider(Now);
        var check = NewCheck(store, time, TimeSpan.FromMilliseconds(200));

        var pending = check.CheckAsync(CancellationToken.None);
        await time.WaitForArmedTimersAsync(2); // the probe's cancellation and the wait's bound
        time.Advance(TimeSpan.FromMilliseconds(200));
        var report = await pending.Guarded();

        Assert.False(report.StorageReachable);
        store.ReleaseHang();
    }

    [Fact]
    public async Task Storage_that_honours_the_timeout_token_is_unreachable_not_an_error()
    {
        var store = new ProbeTableStore { HangUntilCancelled = true };
        var time = new ObservedFakeTimeProvider(Now);
        var check = NewCheck(store, time, TimeSpan.FromMilliseconds(200));

        var pending = check.CheckAsync(CancellationToken.None);
        await time.WaitForArmedTimersAsync(2); // the probe's cancellation and the wait's bound
        time.Advance(TimeSpan.FromMilliseconds(200));
        var report = await pending.Guarded();

        Assert.False(report.StorageReachable);
    }

    [Fact]
    public async Task Caller_cancellation_propagates_rather_than_reporting_storage_down()
    {
        var store = new ProbeTableStore { HangUntilCancelled = true };
        using var caller = new CancellationTokenSource();
        var check = NewCheck(store, new FakeTimeProvider(Now), TimeSpan.FromMinutes(1));

        var pending = check.CheckAsync(caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.Guarded());
    }

    [Fact]
    public void Composition_root_registers_the_system_clock_and_health_with_options_from_configuration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Health:StorageProbeTimeout"] = "00:00:02" })
            .Build();
        // The message sender is each host's own; the composition root's features need one to be complete.
        var services = new ServiceCollection().AddLogging().AddSingleton<ITableStore>(new ProbeTableStore())
            .AddSingleton<LoopFulfil.Core.Messaging.IMessageSender>(new LoopFulfil.Tests.Webhooks.RecordingMessageSender());

        services.AddLoopFulfil(configuration);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
        Assert.NotNull(provider.GetRequiredService<HealthCheck>());
        Assert.Equal(TimeSpan.FromSeconds(2), provider.GetRequiredService<IOptions<HealthOptions>>().Value.StorageProbeTimeout);
    }

    [Fact]
    public void Composition_root_keeps_a_clock_registered_before_it()
    {
        var clock = new FakeTimeProvider(Now);
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);

        services.AddLoopFulfil(new ConfigurationBuilder().Build());

        using var provider = services.BuildServiceProvider();
        Assert.Same(clock, provider.GetRequiredService<TimeProvider>());
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:05:00")]
    public void A_probe_timeout_outside_zero_to_one_minute_is_rejected(string timeout)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Health:StorageProbeTimeout"] = timeout })
            .Build();
        using var provider = new ServiceCollection().AddLoopFulfilHealth(configuration).BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<HealthOptions>>().Value);
    }

    internal static HealthCheck NewCheck(ITableStore store, TimeProvider? time = null, TimeSpan? timeout = null) =>
        new(store, time ?? new FakeTimeProvider(Now), Options.Create(new HealthOptions { StorageProbeTimeout = timeout ?? TimeSpan.FromSeconds(5) }),
            NullLogger<HealthCheck>.Instance);


    /// <summary>
    /// Only what the health probe touches: create a table and a point read. Every other operation fails loudly,
    /// so a probe that started doing more would show up here.
    /// </summary>
    internal sealed class ProbeTableStore : ITableStore
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly HashSet<string> _tables = new(StringComparer.Ordinal);

        public Exception? Failure { get; init; }

        public bool HangIgnoringCancellation { get; init; }

        public bool HangUntilCancelled { get; init; }

        public List<string> Calls { get; } = [];

        public void ReleaseHang() => _release.TrySetResult();

        public async Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken)
        {
            Calls.Add($"create {table}");
            if (Failure is not null)
            {
                throw Failure;
            }

            if (HangIgnoringCancellation)
            {
                await _release.Task;
            }

            if (HangUntilCancelled)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            _tables.Add(table);
        }

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
        {
            Calls.Add($"get {table} {partitionKey}/{rowKey}");
            return _tables.Contains(table)
                ? Task.FromResult<TableEntity?>(null)
                : throw new InvalidOperationException($"Table {table} was read before it was created.");
        }

        public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => throw Unexpected();

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Unexpected();

        public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Unexpected();

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => throw Unexpected();

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => throw Unexpected();

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => throw Unexpected();

        private static InvalidOperationException Unexpected() => new("The health probe only creates the health table and reads one row.");
    }
}
