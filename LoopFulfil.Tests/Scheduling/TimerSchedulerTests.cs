using System.Collections.Concurrent;
using LoopFulfil.Core.Scheduling;
using LoopFulfil.LocalHost.Scheduling;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Tests.Scheduling;

public sealed class TimerSchedulerTests : IDisposable
{
    private static readonly TimeSpan Wait = HangGuard.Limit;

    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private readonly ObservedFakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 10, 10, 2, 30, TimeSpan.Zero));
    private readonly ListLogger<TimerScheduler> _logger = new();

    public void Dispose() => _services.Dispose();

    private TimerScheduler Scheduler(params TimerJob[] jobs) =>
        new(jobs, _services.GetRequiredService<IServiceScopeFactory>(), _time, _logger);

    [Fact]
    public async Task Job_runs_at_each_occurrence_of_its_schedule_and_not_before()
    {
        var runs = new ConcurrentQueue<DateTimeOffset>();
        var ran = new SemaphoreSlim(0);
        using var scheduler = Scheduler(new TimerJob("five-minutes", CronExpression.Parse("0 */5 * * * *"), (_, _) =>
        {
            runs.Enqueue(_time.GetUtcNow());
            ran.Release();
            return Task.CompletedTask;
        }));
        await scheduler.StartAsync(CancellationToken.None);

        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(29));
        Assert.Empty(runs);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await ran.WaitAsync(Wait));
        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(await ran.WaitAsync(Wait));

        await scheduler.StopAsync(CancellationToken.None);
        Assert.Equal(
            [new DateTimeOffset(2026, 3, 10, 10, 5, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 10, 10, 10, 0, TimeSpan.Zero)],
            runs);
    }

    [Fact]
    public async Task Run_on_startup_runs_once_immediately_then_follows_the_schedule()
    {
        var runs = new ConcurrentQueue<DateTimeOffset>();
        var ran = new SemaphoreSlim(0);
        using var scheduler = Scheduler(new TimerJob("nightly", CronExpression.Parse("0 0 2 * * *"), (_, _) =>
        {
            runs.Enqueue(_time.GetUtcNow());
            ran.Release();
            return Task.CompletedTask;
        }) { RunOnStartup = true });

        await scheduler.StartAsync(CancellationToken.None);
        Assert.True(await ran.WaitAsync(Wait));
        await _time.WaitForArmedTimersAsync(1);
        // FakeTimeProvider fires a timer at the time advanced to, so advance exactly to the next 02:00.
        _time.Advance(new DateTimeOffset(2026, 3, 11, 2, 0, 0, TimeSpan.Zero) - _time.GetUtcNow());
        Assert.True(await ran.WaitAsync(Wait));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Equal([new DateTimeOffset(2026, 3, 10, 10, 2, 30, TimeSpan.Zero), new DateTimeOffset(2026, 3, 11, 2, 0, 0, TimeSpan.Zero)], runs);
    }

    [Fact]
    public async Task Failing_run_is_logged_and_the_schedule_carries_on()
    {
        var attempts = 0;
        var ran = new SemaphoreSlim(0);
        using var scheduler = Scheduler(new TimerJob("flaky", CronExpression.Parse("0 * * * * *"), (_, _) =>
        {
            var attempt = Interlocked.Increment(ref attempts);
            ran.Release();
            return attempt == 1 ? throw new InvalidOperationException("reconciliation source unavailable") : Task.CompletedTask;
        }));
        await scheduler.StartAsync(CancellationToken.None);

        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await ran.WaitAsync(Wait));
        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await ran.WaitAsync(Wait));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Equal(2, attempts);
        var failure = Assert.Single(_logger.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(failure.Exception);
        Assert.Contains("flaky", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_run_is_never_overlapped_and_missed_occurrences_are_skipped()
    {
        var concurrent = 0;
        var maxConcurrent = 0;
        var runs = new ConcurrentQueue<DateTimeOffset>();
        var started = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var scheduler = Scheduler(new TimerJob("slow", CronExpression.Parse("0 * * * * *"), async (_, _) =>
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref maxConcurrent, now);
            runs.Enqueue(_time.GetUtcNow());
            started.Release();
            if (runs.Count == 1)
            {
                await release.Task;
            }

            Interlocked.Decrement(ref concurrent);
        }));
        await scheduler.StartAsync(CancellationToken.None);

        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await started.WaitAsync(Wait));

        // Five occurrences pass while the first run is still going.
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(await scheduler.RunNowAsync("slow", CancellationToken.None));
        Assert.Single(runs);

        release.SetResult();
        await _time.WaitForArmedTimersAsync(1);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await started.WaitAsync(Wait));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Equal(1, maxConcurrent);
        Assert.Equal(
            [new DateTimeOffset(2026, 3, 10, 10, 3, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 10, 10, 9, 0, TimeSpan.Zero)],
            runs);
    }

    [Fact]
    public async Task Jobs_run_independently_and_each_gets_its_own_scope()
    {
        using var services = new ServiceCollection().AddScoped<ScopeMarker>().BuildServiceProvider();
        var markers = new ConcurrentBag<ScopeMarker>();
        var ran = new SemaphoreSlim(0);
        Task Record(IServiceProvider sp, CancellationToken _)
        {
            markers.Add(sp.GetRequiredService<ScopeMarker>());
            ran.Release();
            return Task.CompletedTask;
        }

        using var scheduler = new TimerScheduler(
            [new TimerJob("a", CronExpression.Parse("0 */5 * * * *"), Record), new TimerJob("b", CronExpression.Parse("15 */5 * * * *"), Record)],
            services.GetRequiredService<IServiceScopeFactory>(),
            _time,
            _logger);
        await scheduler.StartAsync(CancellationToken.None);
        await _time.WaitForArmedTimersAsync(2);
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await ran.WaitAsync(Wait));
        Assert.True(await ran.WaitAsync(Wait));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Equal(2, markers.Distinct().Count());
    }

    [Fact]
    public void Two_jobs_with_one_name_are_rejected()
    {
        var cron = CronExpression.Parse("0 0 * * * *");

        var error = Assert.Throws<ArgumentException>(() => Scheduler(
            new TimerJob("dup", cron, (_, _) => Task.CompletedTask),
            new TimerJob("dup", cron, (_, _) => Task.CompletedTask)));
        Assert.Contains("dup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_ends_the_wait_for_the_next_occurrence()
    {
        var runs = 0;
        using var scheduler = Scheduler(new TimerJob("yearly", CronExpression.Parse("0 0 0 1 1 *"), (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.CompletedTask;
        }));
        await scheduler.StartAsync(CancellationToken.None);
        await _time.WaitForArmedTimersAsync(1);

        using var timeout = new CancellationTokenSource(Wait);
        await scheduler.StopAsync(timeout.Token);

        Assert.False(timeout.IsCancellationRequested);
        Assert.True(scheduler.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Equal(0, runs);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private sealed class ScopeMarker;
}
