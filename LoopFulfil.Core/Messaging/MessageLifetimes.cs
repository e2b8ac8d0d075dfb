namespace LoopFulfil.Core.Messaging;

/// <summary>
/// How long a queued message can live, on both hosts, and so how long a claim-checked body must be kept: the one
/// place these numbers are decided. The Service Bus queues (infra/modules/serviceBus.bicep) and the single-machine
/// Azurite queues use <see cref="TimeToLive"/>; the Functions sender also stamps it on every message, so a queue
/// created with a longer default still cannot outlive the bodies.
/// </summary>
public static class MessageLifetimes
{
    /// <summary>
    /// The longest a message lives on any queue (<c>loop-returns</c> and <c>loop-exchanges</c>: 14 days; the
    /// <c>exceptions</c> queue uses 7). Service Bus dead-letters an expired message; Azure Queue storage drops it.
    /// </summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromDays(14);

    /// <summary>
    /// The longest a redelivery is scheduled ahead (<c>Redelivery:MaxDelay</c> is at most a day). Service Bus starts a
    /// scheduled message's time-to-live when it is enqueued, so this adds to <see cref="TimeToLive"/>.
    /// </summary>
    public static readonly TimeSpan LongestScheduleDelay = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a claim-checked body is kept (<see cref="ClaimCheck.Retention"/>): longer than any message that points
    /// at it can live, scheduled delay included, with a day of margin for clock skew and a late prune.
    /// </summary>
    public static readonly TimeSpan ClaimCheckBodyLifetime = TimeToLive + LongestScheduleDelay + TimeSpan.FromDays(1);
}
