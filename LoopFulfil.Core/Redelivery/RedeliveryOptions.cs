namespace LoopFulfil.Core.Redelivery;

/// <summary>
/// Backoff of messages whose handler failed transiently (configuration section <c>Redelivery</c>), on both hosts.
/// </summary>
public sealed class RedeliveryOptions
{
    public const string Section = "Redelivery";

    /// <summary>
    /// Failed attempts after which a message is parked as a <c>DeadLettered</c> exception record instead of being
    /// rescheduled. With the defaults a message keeps trying for about two and a half hours.
    /// </summary>
    public int MaxAttempts { get; set; } = 12;

    /// <summary>Delay after the first failure when the error names none; doubles per attempt.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound of every delay, also of a Retry-After or circuit break time the error names.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Checks the values; returns the problems found (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxAttempts is < 1 or > 100)
        {
            problems.Add($"{Section}:{nameof(MaxAttempts)} must be 1-100.");
        }

        if (BaseDelay <= TimeSpan.Zero || BaseDelay > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:{nameof(BaseDelay)} must be above zero and at most 01:00:00.");
        }

        // Service Bus schedules far ahead, but the single-machine queue hides a message for at most 6 days.
        if (MaxDelay < BaseDelay || MaxDelay > TimeSpan.FromDays(1))
        {
            problems.Add($"{Section}:{nameof(MaxDelay)} must be at least {nameof(BaseDelay)} and at most 1.00:00:00.");
        }

        return problems;
    }
}
