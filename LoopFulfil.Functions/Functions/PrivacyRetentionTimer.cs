using LoopFulfil.Core.Privacy;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class PrivacyRetentionTimer
{
    private readonly RetentionJob job;

    public PrivacyRetentionTimer(RetentionJob job) => this.job = job;

    /// <summary>
    /// On <see cref="Schedules.PrivacyRetention"/> (default daily at 03:20 UTC): <see cref="RetentionJob.RunAsync"/>
    /// prunes claim-checked bodies past their lifetime and reduces the payloads of returns settled longer ago than
    /// <c>Privacy:RetainPayloadsDays</c>, in pages from where the last run stopped.
    /// </summary>
    [Function("PrivacyRetention")]
    public Task Run([TimerTrigger(Schedules.PrivacyRetention)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return job.RunAsync(context.CancellationToken);
    }
}
