using System.Reflection;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Health;

/// <summary>What <see cref="HealthCheck"/> found.</summary>
/// <param name="Version">The running build's version (informational version of LoopFulfil.Core).</param>
/// <param name="StorageReachable">Whether Table Storage answered a create-and-read within the probe timeout.</param>
/// <param name="CheckedAt">When the probe ran.</param>
public sealed record HealthReport(string Version, bool StorageReachable, DateTimeOffset CheckedAt)
{
    /// <summary>Healthy means every dependency the app cannot work without answered; today that is Table Storage.</summary>
    public bool Healthy => StorageReachable;
}

/// <summary>
/// The health use case: reports the version and whether Table Storage is reachable. Storage failures of any kind
/// (errors, timeouts) become <c>StorageReachable = false</c>; only cancellation by the caller propagates.
/// </summary>
public sealed class HealthCheck
{
    /// <summary>The table the probe creates and reads; holds no data.</summary>
    public const string ProbeTable = "health";

    private static readonly string AppVersion = ReadVersion();

    private readonly ITableStore _tables;
    private readonly TimeProvider _time;
    private readonly HealthOptions _options;
    private readonly ILogger<HealthCheck> _logger;

    public HealthCheck(ITableStore tables, TimeProvider time, IOptions<HealthOptions> options, ILogger<HealthCheck> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _tables = tables;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var reachable = await ProbeStorageAsync(cancellationToken);
        return new HealthReport(AppVersion, reachable, _time.GetUtcNow());
    }

    private async Task<bool> ProbeStorageAsync(CancellationToken cancellationToken)
    {
        var timeoutAfter = _options.StorageProbeTimeout;
        using var timeout = new CancellationTokenSource(timeoutAfter, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var probe = ProbeAsync(linked.Token);
        try
        {
            // WaitAsync bounds the probe even when the store ignores cancellation (a hung socket).
            await probe.WaitAsync(timeoutAfter, _time, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ObserveLate(probe);
            throw;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            ObserveLate(probe);
            _logger.LogWarning("Health: Table Storage probe timed out after {Timeout}.", timeoutAfter);
            return false;
        }
#pragma warning disable CA1031 // Any storage failure is an answer ("unreachable"), never an error of the probe.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Type and message only: storage errors carry account names and status codes, never secrets.
            _logger.LogWarning("Health: Table Storage probe failed ({ExceptionType}: {Reason}).", ex.GetType().Name, ex.Message);
            return false;
        }
    }

    // A write path (create) and a read path (point read of an absent row): credentials that can only read, or an
    // endpoint that answers but rejects writes, leave the app unable to work and so count as unreachable.
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await _tables.CreateTableIfNotExistsAsync(ProbeTable, cancellationToken);
        _ = await _tables.GetAsync(ProbeTable, "probe", "probe", cancellationToken);
    }

    private static void ObserveLate(Task probe) =>
        probe.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private static string ReadVersion()
    {
        var assembly = typeof(HealthCheck).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational ?? assembly.GetName().Version?.ToString() ?? "unknown";
    }
}
