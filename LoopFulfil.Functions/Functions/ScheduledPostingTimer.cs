using LoopFulfil.Core.Refunds;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ScheduledPostingTimer
{
    private readonly ScheduledPostingJob job;

    public ScheduledPostingTimer(ScheduledPostingJob job) => this.job = job;

    /// <summary>
    /// On <see cref="Schedules.RefundsPosting"/>: in <c>Refunds__PostingMode=Scheduled</c>, posts the pending credit
    /// notes and journals in one batch and logs its summary (<see cref="ScheduledPostingJob.RunAsync"/>); in realtime
    /// mode there is nothing pending and the run is a no-op.
    /// </summary>
    [Function("RefundsPosting")]
    public Task Run([TimerTrigger(Schedules.RefundsPosting)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return job.RunAsync(context.CancellationToken);
    }
}
