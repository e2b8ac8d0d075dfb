using LoopFulfil.Core.Reconciliation;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class ReconciliationTimer
{
    private readonly ReconciliationJob job;

    public ReconciliationTimer(ReconciliationJob job) => this.job = job;

    /// <summary>
    /// On <see cref="Schedules.Reconciliation"/> (default 02:00 UTC): <see cref="ReconciliationJob.RunScheduledAsync"/>
    /// reconciles the previous UTC day, heals what it can and stores the report (<c>GET /api/ops/reconciliation/latest.html</c>).
    /// </summary>
    [Function("Reconciliation")]
    public Task Run([TimerTrigger(Schedules.Reconciliation)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return job.RunScheduledAsync(context.CancellationToken);
    }
}
