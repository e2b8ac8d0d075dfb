using System.Collections.Concurrent;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;
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

    /// <summary>
    /// Starts a sandbox and a client. Retries are fast by default; <paramref name="settings"/> overrides any key.
    /// <paramref name="time"/> (a fake clock) drives the client's retry delays and timeouts; the system clock otherwise.
    /// </summary>
    public static async Task<FulfilTestHost> StartAsync(IDictionary<string, string?>? settings = null, FulfilSandboxOptions? sandboxOptions = null, TimeProvider? time = null)
    {
        var sandbox = await FulfilSandbox.StartAsync(sandboxOptions);
        var values = IntegrationHarness.FulfilSettings(sandbox, postingSettings: true);
        values["Fulfil:CompanyId"] = "1";
        values["HttpResilience:MaxRetryAttempts"] = "3";
        values["HttpResilience:BaseDelay"] = "00:00:00.050";
        values["HttpResilience:AttemptTimeout"] = "00:00:10";
        values["HttpResilience:TotalTimeout"] = "00:01:00";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddLoopFulfilHttpResilience(configuration);
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

