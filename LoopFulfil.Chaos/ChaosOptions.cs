namespace LoopFulfil.Chaos;

/// <summary>Settings of one chaos run (see docs/benchmarks/chaos.md).</summary>
public sealed record ChaosOptions
{
    /// <summary>Loop returns in the run (N).</summary>
    public int Returns { get; init; } = 1000;

    /// <summary>Seeds the mix, the delivery counts and order, the kill points and the proxy's fault decisions.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Fulfil calls failed before they reach Fulfil (429 with Retry-After, 503, connection reset).</summary>
    public double FulfilBeforeCommitRate { get; init; } = 0.20;

    /// <summary>Fulfil calls forwarded and committed, then answered 503 or dropped.</summary>
    public double FulfilAfterCommitRate { get; init; } = 0.10;

    /// <summary>Loop API calls the host makes (reads, process, flag, notes) failed before they reach Loop (429 with Retry-After, 503, reset).</summary>
    public double LoopBeforeCommitRate { get; init; } = 0.20;

    /// <summary>Loop API calls forwarded and committed, then answered 503, dropped, or stalled past the host's timeout.</summary>
    public double LoopAfterCommitRate { get; init; } = 0.10;

    /// <summary>Host kills asked for; the run makes at least 5 per 1,000 returns (rounded up) whatever this says.</summary>
    public int MinRestarts { get; init; }

    /// <summary>
    /// Returns whose scripts run at the same time. A return spends most of its time waiting (retry backoff, redelivery
    /// delays, leases), so many in flight keep the host busy; the host's <see cref="HostPartitions"/> bound its handlers.
    /// </summary>
    public int Parallelism { get; init; } = 64;

    /// <summary><c>LocalHost:Partitions</c> of the host: sessions (returns) handled at the same time per queue.</summary>
    public int HostPartitions { get; init; } = 64;

    /// <summary><c>Refunds:PostingMode</c> of the host (the posting timer runs in both modes on today's hosts).</summary>
    public string PostingMode { get; init; } = "Realtime";

    /// <summary>
    /// The ERP behind the Fulfil client: <c>simulator</c> (in-memory, in this process) or <c>tryton</c> (Tryton 6.0
    /// behind the Fulfil façade, started by eng/tryton/start.sh in a process of its own).
    /// </summary>
    public string Erp { get; init; } = "simulator";

    /// <summary>How often the posting timer runs (six-field NCRONTAB), so it races the handlers.</summary>
    public string PostingSchedule { get; init; } = "*/3 * * * * *";

    /// <summary>How often the repair (the reconciliation with self-heal) runs.</summary>
    public string RepairSchedule { get; init; } = "*/5 * * * * *";

    /// <summary>Wait between polls of a condition.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Polls a return's script waits for one step (a return order, Loop closing it) before it gives up (10 minutes at
    /// 200 ms; reached only when something is stuck: under a load average of 60–100 a step took up to 280 s).
    /// </summary>
    public int MaxPollsPerStep { get; init; } = 3000;

    /// <summary>
    /// Consecutive settled polls (both return queues empty and every document the payloads call for in Fulfil) that
    /// end the run. At 30 × <see cref="PollInterval"/> (6 s) the window spans a run of the repair and two of the posting
    /// timer, so a late second document would still be seen.
    /// </summary>
    public int QuietPolls { get; init; } = 30;

    /// <summary>Polls (of <see cref="PollInterval"/>) spent waiting to settle at most; reached only when something is lost or stuck.</summary>
    public int MaxQuietWaitPolls { get; init; } = 600;

    /// <summary>Host settings added to (or replacing) the run's own, e.g. a log level for a profile (<c>--set key=value</c>).</summary>
    public IReadOnlyDictionary<string, string> ExtraHostSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>The host's <c>loopfulfil.dll</c>; null: the one next to this assembly.</summary>
    public string? HostDll { get; init; }

    /// <summary>Where the host's output goes; null: a temporary file.</summary>
    public string? HostLogPath { get; init; }

    /// <summary>Kills the run makes: <see cref="MinRestarts"/>, and never fewer than 5 per 1,000 returns.</summary>
    public int Restarts => Math.Max(MinRestarts, (int)Math.Ceiling(Returns * 5 / 1000.0));

    /// <summary>Throws on values the run cannot work with.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Returns, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(Parallelism, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(HostPartitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPollsPerStep, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(QuietPolls, 1);
        if (Erp is not ("simulator" or "tryton"))
        {
            throw new ArgumentException($"Unknown ERP '{Erp}': simulator or tryton.", nameof(Erp));
        }

        if (Restarts >= Returns)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRestarts), "Kills happen between returns: ask for fewer kills than returns.");
        }
    }
}
