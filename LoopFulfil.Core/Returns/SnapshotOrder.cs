namespace LoopFulfil.Core.Returns;

/// <summary>
/// Which of two snapshots of a return is the newer, so the ledger never goes backwards. Loop's times have whole
/// seconds and many payloads carry only <c>created_at</c>, so times alone tie often: on an equal or missing time the
/// state later in Loop's lifecycle wins (open &lt; review &lt; closed / cancelled / expired). Times are compared at
/// whole seconds: a time kept with a fraction (a webhook or a listing that carries one) must not beat a whole-second
/// time of the same second and so skip the lifecycle rule.
/// </summary>
public static class SnapshotOrder
{
    /// <summary>Position in Loop's lifecycle; the terminal states share the last place.</summary>
    public static int LifecycleRank(string? state) => ReturnStates.Normalise(state) switch
    {
        ReturnStates.Review => 1,
        ReturnStates.Closed or ReturnStates.Cancelled or ReturnStates.Expired => 2,
        _ => 0,
    };

    /// <summary>
    /// Positive when (<paramref name="time"/>, <paramref name="state"/>) is newer than the other, negative when older,
    /// zero when nothing tells them apart (same state at the same second, or both without a time).
    /// </summary>
    public static int Compare(DateTimeOffset? time, string? state, DateTimeOffset? otherTime, string? otherState)
    {
        if (time is { } t && otherTime is { } o && WholeSeconds(t) != WholeSeconds(o))
        {
            return WholeSeconds(t).CompareTo(WholeSeconds(o));
        }

        var byLifecycle = LifecycleRank(state).CompareTo(LifecycleRank(otherState));
        if (byLifecycle != 0)
        {
            return byLifecycle;
        }

        // Same state, times equal or missing: a snapshot that has a time is the better-placed one.
        return (time is not null).CompareTo(otherTime is not null);
    }

    private static long WholeSeconds(DateTimeOffset time) => time.UtcTicks / TimeSpan.TicksPerSecond;

    /// <summary>The later of two optional times.</summary>
    public static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
