using System.Text.Json.Nodes;
using LoopFulfil.Cli;
using LoopFulfil.Cli.Demo;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Cli;

/// <summary>
/// An Azurite of its own for the serve host tests: the host uses the fixed queue names (loop-returns…), which no
/// other test may share. Tests in one class run one after another, so they share it safely.
/// </summary>
public sealed class ServeAzurite : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public string ConnectionString => _azurite?.ConnectionString ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartNewAsync(HangGuard.Limit);

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

/// <summary>Running CLI commands in-process with their own settings, and helpers over the sandboxes.</summary>
internal static class CliTestSupport
{
    /// <summary>When the test returns were made in Loop (data only: nothing compares it with the clock).</summary>
    public static readonly DateTimeOffset ReturnCreated = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    // Sandboxes and Azurite (in memory) are new for each run: ids need to differ only within one.
    private static long s_nextId = 700_000;

    /// <summary>Settings for a quick serve host on a free port against <paramref name="storage"/>.</summary>
    public static Dictionary<string, string?> FastSettings(string storage) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Storage:ConnectionString"] = storage,
        ["LocalHost:Urls"] = "http://127.0.0.1:0",
        ["LocalHost:PollIntervalMilliseconds"] = "50",
        ["LocalHost:VisibilityTimeoutSeconds"] = "5",
        ["LocalHost:MaxRetryBackoffSeconds"] = "0",
        ["LocalHost:ShutdownGraceSeconds"] = "5",
        ["HttpResilience:MaxRetryAttempts"] = "1",
        ["HttpResilience:BaseDelay"] = "00:00:00.010",
        ["HttpResilience:MaxDelay"] = "00:00:00.050",
        ["HttpResilience:CircuitBreakerEnabled"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static Task<(int Code, string Stdout, string Stderr)> RunAsync(IDictionary<string, string?> settings, params string[] args) =>
        RunAtAsync(TimeProvider.System, settings, args);

    /// <summary>Runs a command whose clock is <paramref name="time"/> (a FakeTimeProvider in tests of dated reports).</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAtAsync(TimeProvider time, IDictionary<string, string?> settings, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr))
        {
            ReadProcessConfiguration = false,
            Settings = settings,
            Time = time,
        };
        var code = await CliApp.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts <c>serve</c> in-process; returns the running host and the task that completes when it exits.</summary>
    public static async Task<ServeRun> StartServeAsync(IDictionary<string, string?> settings, params string[] args)
    {
        var started = new TaskCompletionSource<RunningHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr))
        {
            ReadProcessConfiguration = false,
            Settings = settings,
            Stopping = stop.Token,
            OnServeStarted = host => started.TrySetResult(host),
        };
        var run = CliApp.RunAsync(["serve", .. args], context);
        var first = await Task.WhenAny(started.Task, run).Guarded();
        if (first != started.Task)
        {
            throw new InvalidOperationException($"serve did not start: {stdout}\n{stderr}");
        }

        return new ServeRun(await started.Task, run, stop, stdout, stderr);
    }

    /// <summary>A Loop return against the Fulfil sandbox's demo sale #1001 (TEE-BLK-M, 25.00), not used by any other test run.</summary>
    public static (string Id, JsonObject Json) ReturnOn1001(string sku = "TEE-BLK-M", decimal price = 25.00m)
    {
        var id = Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (id, new DemoReturn(id, "#1001", "refund").WithUnit(sku, price).ToJson(ReturnCreated));
    }

    public static IReadOnlyList<FulfilSandboxRecord> ReturnOrders(FulfilSandbox fulfil, string returnId) =>
        fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("is_return"), true) && Equals(r.GetValueOrDefault("channel_identifier"), returnId));

    /// <summary>Polls until <paramref name="condition"/> holds (serve runs on real time; see <see cref="HangGuard"/>).</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what) => HangGuard.UntilAsync(condition, what);

    /// <inheritdoc cref="WaitUntilAsync(Func{bool}, string)"/>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what) => HangGuard.UntilAsync(condition, what);
}

/// <summary>A <c>serve</c> run in-process.</summary>
internal sealed class ServeRun(RunningHost host, Task<int> exit, CancellationTokenSource stop, StringWriter stdout, StringWriter stderr) : IAsyncDisposable
{
    public RunningHost Host { get; } = host;

    public string Stdout => stdout.ToString();

    public string Stderr => stderr.ToString();

    /// <summary>Asks serve to stop (as Ctrl+C does) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await stop.CancelAsync();
        return await exit.Guarded();
    }

    public async ValueTask DisposeAsync()
    {
        if (!exit.IsCompleted)
        {
            await StopAsync();
        }

        stop.Dispose();
    }
}
