using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>
/// <see cref="FakeTimeProvider"/> that also tells a test when the code under test has armed a timer, so the test
/// advances the clock only once something is waiting on it (advancing earlier would pass the due time unobserved).
/// </summary>
internal sealed class ObservedFakeTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _gate = new();
    private readonly HashSet<ObservedTimer> _armed = [];

    /// <summary>Timers currently waiting to fire.</summary>
    public int ArmedTimers
    {
        get
        {
            lock (_gate)
            {
                return _armed.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var observed = new ObservedTimer(this);
        observed.Inner = base.CreateTimer(observed.Fire(callback), state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        observed.Change(dueTime, period);
        return observed;
    }

    /// <summary>Waits until at least <paramref name="count"/> timers are armed (polls bounded by <see cref="HangGuard"/>).</summary>
    public Task WaitForArmedTimersAsync(int count) => HangGuard.UntilAsync(() => ArmedTimers >= count, $"{count} armed timer(s)");

    /// <summary>Waits until a timer armed for exactly <paramref name="dueTime"/> is waiting: the delay or timeout the code asked for.</summary>
    public Task WaitForTimerDueInAsync(TimeSpan dueTime) => HangGuard.UntilAsync(() => IsArmed(dueTime), $"a timer armed for {dueTime}");

    /// <summary>Whether a timer armed for <paramref name="dueTime"/> is still waiting.</summary>
    public bool IsArmed(TimeSpan dueTime)
    {
        lock (_gate)
        {
            return _armed.Any(t => t.DueTime == dueTime);
        }
    }

    private void Track(ObservedTimer timer, bool armed)
    {
        lock (_gate)
        {
            if (armed)
            {
                _armed.Add(timer);
            }
            else
            {
                _armed.Remove(timer);
            }
        }
    }

    private sealed class ObservedTimer(ObservedFakeTimeProvider owner) : ITimer
    {
        private bool _periodic;

        public ITimer Inner { get; set; } = null!;

        public TimeSpan DueTime { get; private set; }

        public TimerCallback Fire(TimerCallback callback) => state =>
        {
            if (!_periodic)
            {
                owner.Track(this, armed: false);
            }

            callback(state);
        };

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _periodic = period != Timeout.InfiniteTimeSpan && period != TimeSpan.Zero;
            DueTime = dueTime;
            owner.Track(this, armed: dueTime != Timeout.InfiniteTimeSpan);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            owner.Track(this, armed: false);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
