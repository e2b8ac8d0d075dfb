namespace LoopFulfil.Tests.Infrastructure;

/// <summary>The real clock moved by <see cref="Advance"/>: timers and timestamps stay real, so HTTP retries still run.</summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    private long offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);
}
