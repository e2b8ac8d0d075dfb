using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.LocalHost.Scheduling;

/// <summary>A named job on an NCRONTAB schedule, the single-machine equivalent of a timer-triggered function.</summary>
/// <param name="Name">Unique name, used in logs and by <see cref="TimerScheduler.RunNowAsync"/>.</param>
/// <param name="Schedule">When it runs (UTC).</param>
/// <param name="RunAsync">The work; gets a fresh DI scope per run.</param>
public sealed record TimerJob(string Name, CronExpression Schedule, Func<IServiceProvider, CancellationToken, Task> RunAsync)
{
    /// <summary>Also run once when the scheduler starts (the timer trigger's <c>RunOnStartup</c>).</summary>
    public bool RunOnStartup { get; init; }
}

/// <summary>
/// Runs <see cref="TimerJob"/>s on their schedules. Runs of one job never overlap: occurrences that pass while a run
/// is still going are skipped, and the next run is the first occurrence after it ends. A failing run is logged and
/// the schedule carries on.
/// </summary>
public sealed partial class TimerScheduler : BackgroundService
{
    // Task.Delay cannot wait longer than about 49 days; long waits are taken in slices and re-checked, which also
    // absorbs clock changes.
    private static readonly TimeSpan MaxWaitSlice = TimeSpan.FromHours(12);

    private readonly IReadOnlyList<TimerJob> _jobs;
    private readonly Dictionary<string, SemaphoreSlim> _running = new(StringComparer.Ordinal);
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<TimerScheduler> _logger;

    public TimerScheduler(IEnumerable<TimerJob> jobs, IServiceScopeFactory scopes, TimeProvider time, ILogger<TimerScheduler> logger)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        _jobs = jobs.ToList();
        foreach (var job in _jobs)
        {
            if (!_running.TryAdd(job.Name, new SemaphoreSlim(1, 1)))
            {
                throw new ArgumentException($"Two timer jobs are named '{job.Name}'.", nameof(jobs));
            }
        }

        _scopes = scopes;
        _time = time;
        _logger = logger;
    }

    /// <summary>The registered jobs.</summary>
    public IReadOnlyList<TimerJob> Jobs => _jobs;

    /// <summary>Runs a job now, outside its schedule (an operator's "run it now").</summary>
    /// <returns>False when that job is already running (runs never overlap).</returns>
    public async Task<bool> RunNowAsync(string name, CancellationToken cancellationToken)
    {
        var job = _jobs.FirstOrDefault(j => j.Name == name) ?? throw new ArgumentException($"No timer job is named '{name}'.", nameof(name));
        return await TryRunAsync(job, cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        foreach (var gate in _running.Values)
        {
            gate.Dispose();
        }

        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_jobs.Select(job => Task.Run(() => RunScheduleAsync(job, stoppingToken), CancellationToken.None)));

    private async Task RunScheduleAsync(TimerJob job, CancellationToken stoppingToken)
    {
        if (job.RunOnStartup)
        {
            await TryRunAsync(job, stoppingToken).ConfigureAwait(false);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var next = job.Schedule.GetNextOccurrence(_time.GetUtcNow());
            LogNextRun(job.Name, next);
            try
            {
                // Timers may fire a little early; wait until the clock really reaches the occurrence.
                for (var now = _time.GetUtcNow(); now < next; now = _time.GetUtcNow())
                {
                    var wait = next - now;
                    await Task.Delay(wait < MaxWaitSlice ? wait : MaxWaitSlice, _time, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await TryRunAsync(job, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryRunAsync(TimerJob job, CancellationToken stoppingToken)
    {
        var gate = _running[job.Name];
        if (!await gate.WaitAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false))
        {
            LogSkippedOverlap(job.Name);
            return false;
        }

        try
        {
            LogRunStarting(job.Name);
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                await job.RunAsync(scope.ServiceProvider, stoppingToken).ConfigureAwait(false);
            }

            LogRunCompleted(job.Name);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogRunCancelled(job.Name);
        }
        catch (Exception ex)
        {
            LogRunFailed(ex, job.Name);
        }
        finally
        {
            gate.Release();
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer job {Job} next runs at {Next:o}")]
    private partial void LogNextRun(string job, DateTimeOffset next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer job {Job} starting")]
    private partial void LogRunStarting(string job);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer job {Job} completed")]
    private partial void LogRunCompleted(string job);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer job {Job} cancelled by shutdown")]
    private partial void LogRunCancelled(string job);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer job {Job} failed; the schedule continues")]
    private partial void LogRunFailed(Exception exception, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer job {Job} is still running; this run is skipped")]
    private partial void LogSkippedOverlap(string job);
}
