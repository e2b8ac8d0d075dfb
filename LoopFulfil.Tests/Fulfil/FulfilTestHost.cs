using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Fulfil;

/// <summary>
/// A simulated Fulfil on loopback plus the real client wired through <c>AddLoopFulfilFulfil</c>, as the composition root
/// will wire it. Each instance has its own provider, so its own circuit breaker.
/// </summary>
internal sealed class FulfilTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private FulfilTestHost(FulfilSandbox sandbox, ServiceProvider provider, CapturingLoggerProvider logs)
    {
        Sandbox = sandbox;
        _provider = provider;
        Logs = logs;
    }

    public FulfilSandbox Sandbox { get; }

    public CapturingLoggerProvider Logs { get; }

    public IFulfilClient Client => _provider.GetRequiredService<IFulfilClient>();

    public FulfilHttp Http => ((FulfilClient)Client).Http;

    public FulfilOptions Options => _provider.GetRequiredService<IOptions<FulfilOptions>>().Value;

    /// <summary>Starts a sandbox and a client. Retries are fast by default; <paramref name="settings"/> overrides any key.</summary>
    public static async Task<FulfilTestHost> StartAsync(IDictionary<string, string?>? settings = null, FulfilSandboxOptions? sandboxOptions = null)
    {
        var sandbox = await FulfilSandbox.StartAsync(sandboxOptions);
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Fulfil:BaseUrl"] = sandbox.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = sandbox.ApiKey,
            ["Fulfil:CompanyId"] = "1",
            ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.QuarantineLocationCode,
            ["Fulfil:SellableLocationCode"] = FulfilSandboxDemo.SellableLocationCode,
            ["Fulfil:DamagedLocationCode"] = FulfilSandboxDemo.DamagedLocationCode,
            ["Fulfil:ReturnsClearingAccountCode"] = FulfilSandboxDemo.ReturnsClearingAccountCode,
            ["Fulfil:GiftCardLiabilityAccountCode"] = FulfilSandboxDemo.GiftCardLiabilityAccountCode,
            ["Fulfil:JournalId"] = FulfilSandboxDemo.MiscJournalId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:ExchangeChannelId"] = FulfilSandboxDemo.ExchangeChannelId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:ExchangePriority"] = "1",
            ["HttpResilience:MaxRetryAttempts"] = "3",
            ["HttpResilience:BaseDelay"] = "00:00:00.050",
            ["HttpResilience:AttemptTimeout"] = "00:00:10",
            ["HttpResilience:TotalTimeout"] = "00:01:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddLoopFulfilFulfil(configuration);
        return new FulfilTestHost(sandbox, services.BuildServiceProvider(), logs);
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        await Sandbox.DisposeAsync();
    }
}

/// <summary>Keeps formatted log lines so tests can check what is (and is not) logged.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}

/// <summary>A settable clock (TimeProvider.Testing does not restore here).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
