namespace LoopFulfil.Core.Privacy;

/// <summary>How long customers' personal data is kept, and how the retention job runs (configuration section <c>Privacy</c>).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>
    /// Days after a return is settled (closed, cancelled or expired, with no open exception) before its stored
    /// payloads are reduced to what reconciliation and audit need; also how long a resolved exception keeps its raw
    /// event. Default 90: covers Loop's and the card networks' dispute windows for a refund.
    /// </summary>
    public int RetainPayloadsDays { get; set; } = 90;

    /// <summary>
    /// Six-field NCRONTAB schedule of the retention job (default daily at 03:20 UTC). The Functions timer reads the
    /// flat app setting <c>PrivacyRetentionSchedule</c>, set from the same value.
    /// </summary>
    public string RetentionSchedule { get; set; } = "0 20 3 * * *";

    /// <summary>Records examined per page; the job stores its position after each page.</summary>
    public int RetentionPageSize { get; set; } = 100;

    /// <summary>Pages per run at most; the next run carries on from the stored position.</summary>
    public int RetentionMaxPagesPerRun { get; set; } = 50;

    /// <summary>Off: the job reduces no payloads (claim-checked bodies are still pruned: queues need that).</summary>
    public bool RetentionEnabled { get; set; } = true;

    /// <summary>The settings that do not hold, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (RetainPayloadsDays is < 1 or > 3650)
        {
            problems.Add($"{Section}:{nameof(RetainPayloadsDays)} must be 1-3650.");
        }

        if (!Scheduling.CronExpression.TryParse(RetentionSchedule, out _, out _))
        {
            problems.Add($"{Section}:{nameof(RetentionSchedule)} must be a six-field NCRONTAB expression (e.g. 0 20 3 * * *).");
        }

        if (RetentionPageSize is < 1 or > 1000)
        {
            problems.Add($"{Section}:{nameof(RetentionPageSize)} must be 1-1000.");
        }

        if (RetentionMaxPagesPerRun is < 1 or > 10_000)
        {
            problems.Add($"{Section}:{nameof(RetentionMaxPagesPerRun)} must be 1-10000.");
        }

        return problems;
    }
}
