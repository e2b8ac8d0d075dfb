namespace LoopFulfil.LocalHost;

/// <summary>
/// Settings of the single-machine host (<c>loopfulfil serve</c>): the stand-ins for the Functions host, Service Bus
/// and its trigger. Defaults mirror Service Bus (MaxDeliveryCount 10, 60 s lock) so behaviour matches Azure.
/// </summary>
public sealed class LocalHostOptions
{
    public const string Section = "LocalHost";

    /// <summary>Where the HTTP endpoints listen; loopback by default, as the Functions Core Tools do.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:7071";

    /// <summary>
    /// Worker partitions per queue: the bound on concurrent handlers. A session always maps to the same partition,
    /// which handles its messages one at a time in order.
    /// </summary>
    public int Partitions { get; set; } = 4;

    /// <summary>Deliveries before a message moves to <c>{queue}-poison</c> (Service Bus default: 10).</summary>
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>How long a received message stays hidden (the peek-lock duration); renewed while it is held.</summary>
    public int VisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>Wait between receives when a queue was empty.</summary>
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>A MessageId sent again within this window is dropped (Service Bus duplicate detection).</summary>
    public int DuplicateDetectionWindowHours { get; set; } = 24;

    /// <summary>Default of <see cref="PendingClaimTimeoutSeconds"/>.</summary>
    public const int DefaultPendingClaimTimeoutSeconds = 120;

    /// <summary>
    /// How long a duplicate-detection claim may stay pending (its sender claimed the MessageId but has not yet marked it
    /// sent) before another send of the same MessageId takes it over. Until then a repeat is refused as transient (a
    /// webhook gets 503 and Loop retries), never dropped: the first sender may have died before sending.
    /// </summary>
    public int PendingClaimTimeoutSeconds { get; set; } = DefaultPendingClaimTimeoutSeconds;

    /// <summary>
    /// On shutdown, how long running handlers may finish before their messages are released for redelivery.
    /// Keep it below the host's shutdown timeout.
    /// </summary>
    public int ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>
    /// Upper bound of the dispatcher's retry backoff after a handler fails (it doubles per delivery from 1 s). Transient
    /// failures are rescheduled by <c>MessageRedelivery</c> instead (settings <c>Redelivery:*</c>).
    /// </summary>
    public int MaxRetryBackoffSeconds { get; set; } = 60;

    /// <summary>
    /// Key the <c>/api/ops/…</c> routes of <c>loopfulfil serve</c> require in the <c>x-functions-key</c> header (the
    /// header the Functions host reads its keys from, so one script works against both hosts). Empty: those routes
    /// answer 403. Sandbox mode generates one when empty.
    /// </summary>
    public string AdminKey { get; set; } = string.Empty;

    /// <summary>Checks the values make sense; returns the problems found (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(Urls?.Split(';')[0], UriKind.Absolute, out _))
        {
            problems.Add($"{Section}:{nameof(Urls)} must be an absolute URL (or ';'-separated URLs).");
        }

        Check(Partitions is >= 1 and <= 64, nameof(Partitions), "1-64");
        Check(MaxDeliveryCount is >= 1 and <= 100, nameof(MaxDeliveryCount), "1-100");

        // Queue Storage counts visibility in whole seconds; the Service Bus lock maximum is 5 minutes.
        Check(VisibilityTimeoutSeconds is >= 2 and <= 300, nameof(VisibilityTimeoutSeconds), "2-300");
        Check(PollIntervalMilliseconds is >= 10 and <= 60_000, nameof(PollIntervalMilliseconds), "10-60000");
        Check(DuplicateDetectionWindowHours is >= 0 and <= 168, nameof(DuplicateDetectionWindowHours), "0-168 (0 turns detection off)");
        Check(ShutdownGraceSeconds is >= 0 and <= 600, nameof(ShutdownGraceSeconds), "0-600");
        Check(PendingClaimTimeoutSeconds is >= 1 and <= 3600, nameof(PendingClaimTimeoutSeconds), "1-3600");
        Check(MaxRetryBackoffSeconds is >= 0 and <= 3600, nameof(MaxRetryBackoffSeconds), "0-3600");
        return problems;

        void Check(bool ok, string name, string range)
        {
            if (!ok)
            {
                problems.Add($"{Section}:{name} must be in {range}.");
            }
        }
    }
}
