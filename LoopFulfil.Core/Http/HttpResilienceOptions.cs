namespace LoopFulfil.Core.Http;

/// <summary>
/// Retry, timeout and circuit-breaker settings shared by the outbound API clients (Fulfil, Loop). Each client gets
/// its own pipeline (and so its own circuit) built from these values.
/// </summary>
public sealed class HttpResilienceOptions
{
    public const string Section = "HttpResilience";

    /// <summary>Retries after the first attempt (0 disables retrying).</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>First backoff delay; doubles per retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of a computed backoff delay.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    public bool UseJitter { get; set; } = true;

    /// <summary>
    /// Longest <c>Retry-After</c> waited in-process. A longer one ends the retries and the caller gets a transient
    /// error carrying the wait, so the message is redelivered later instead of holding a worker.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of the whole call including retries and their delays.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);

    public bool CircuitBreakerEnabled { get; set; } = true;

    /// <summary>Failure ratio within <see cref="CircuitBreakerSamplingDuration"/> that opens the circuit.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts needed in the sampling window before the ratio counts (at least 2).</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 20;

    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails calls fast before letting a trial call through.</summary>
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
