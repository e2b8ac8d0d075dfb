using LoopFulfil.Sandbox.Hosting;

namespace LoopFulfil.Sandbox.Faults;

/// <summary>
/// Seeded random faults for a <see cref="FaultProxy"/>: shorthand for a <see cref="FaultInjection"/> plan with only
/// its rates set (the kinds are <see cref="SandboxFault"/>, the same the simulators inject). Rates are fractions of all
/// requests (0–1, together at most 1).
/// </summary>
public sealed record FaultProxyOptions
{
    /// <summary>Seed of the per-request decisions: the same seed and request order give the same faults.</summary>
    public int Seed { get; init; } = 12345;

    /// <summary>Requests failed before they reach the server (429 with Retry-After, 503, or reset, in equal parts).</summary>
    public double BeforeCommitRate { get; init; }

    /// <summary>Requests forwarded and committed whose response is replaced (503, a dropped connection, or a stall, in equal parts).</summary>
    public double AfterCommitRate { get; init; }

    /// <summary>Seconds sent in Retry-After with the injected 429s.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>
    /// Longest a stalled response is held before the connection is dropped; make it longer than the client's attempt
    /// timeout so the client's own timeout ends the stall (it then cannot know whether the write happened).
    /// </summary>
    public TimeSpan StallFor { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>0 for a free port.</summary>
    public int Port { get; init; }

    /// <summary>The fault plan these settings describe (throws when the rates are out of range).</summary>
    public FaultInjection ToPlan()
    {
        var plan = new FaultInjection(Seed)
        {
            BeforeCommitRate = BeforeCommitRate,
            AfterCommitRate = AfterCommitRate,
            RetryAfterSeconds = RetryAfterSeconds,
            TimeoutStall = StallFor,
        };
        plan.Validate();
        return plan;
    }
}
