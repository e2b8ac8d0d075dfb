namespace LoopFulfil.Sandbox.Faults;

/// <summary>What a <see cref="FaultProxy"/> does with one request.</summary>
public enum ProxyFault
{
    /// <summary>Forwarded and the response relayed unchanged.</summary>
    None,

    /// <summary>Answered 429 with Retry-After; never forwarded.</summary>
    RateLimitedBeforeCommit,

    /// <summary>Answered 503; never forwarded.</summary>
    UnavailableBeforeCommit,

    /// <summary>Connection reset; never forwarded.</summary>
    ResetBeforeCommit,

    /// <summary>Forwarded (the server commits), then answered 503 instead of the server's response.</summary>
    UnavailableAfterCommit,

    /// <summary>Forwarded (the server commits), then the connection is dropped instead of relaying the response.</summary>
    DroppedAfterCommit,

    /// <summary>
    /// Forwarded (the server commits), then the response is held back until the client gives up (its attempt timeout)
    /// or <see cref="FaultProxyOptions.StallFor"/> passes, and the connection is dropped: a stall after the write.
    /// </summary>
    StalledAfterCommit,
}

/// <summary>Settings of a <see cref="FaultProxy"/>. Rates are fractions of all requests (0–1, together at most 1).</summary>
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

    /// <summary>Throws when the rates are out of range.</summary>
    public void Validate()
    {
        if (BeforeCommitRate is < 0 or > 1 || AfterCommitRate is < 0 or > 1 || BeforeCommitRate + AfterCommitRate > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BeforeCommitRate), $"Fault rates must be 0-1 and sum to at most 1 (before {BeforeCommitRate}, after {AfterCommitRate}).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(RetryAfterSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(StallFor, TimeSpan.Zero);
    }
}
