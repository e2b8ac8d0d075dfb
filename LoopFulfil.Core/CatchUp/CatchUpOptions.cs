namespace LoopFulfil.Core.CatchUp;

/// <summary>The catch-up sweep (configuration section <c>CatchUp</c>).</summary>
public sealed class CatchUpOptions
{
    public const string Section = "CatchUp";

    /// <summary>
    /// Six-field NCRONTAB schedule of the sweep (default every 15 minutes; 15-60 minutes is the intended range). The
    /// Functions timer reads the flat app setting <c>CatchUpSchedule</c>, set from the same value.
    /// </summary>
    public string Schedule { get; set; } = "0 */15 * * * *";

    /// <summary>
    /// How far before the watermark each sweep starts again: covers Loop's list lagging behind its own
    /// <c>updated_at</c> and clock skew. A return seen twice is not enqueued twice (its snapshot is then current, and
    /// the MessageId is deterministic).
    /// </summary>
    public TimeSpan Overlap { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Where the very first sweep starts (before now) when no watermark is stored. Zero by default: on a first
    /// deployment returns from before go-live were handled by hand and must not be sent to Fulfil again. Set it to
    /// cover a known gap when the watermark table was lost.
    /// </summary>
    public TimeSpan InitialLookback { get; set; } = TimeSpan.Zero;

    /// <summary>Off: the sweep does nothing (the timer still fires).</summary>
    public bool Enabled { get; set; } = true;
}
