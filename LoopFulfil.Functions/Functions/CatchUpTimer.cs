using LoopFulfil.Core.CatchUp;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class CatchUpTimer
{
    private readonly CatchUpSweep sweep;

    public CatchUpTimer(CatchUpSweep sweep) => this.sweep = sweep;

    /// <summary>
    /// On <see cref="Schedules.CatchUp"/> (default every 15 minutes): <see cref="CatchUpSweep.RunAsync"/> enqueues the
    /// Loop returns updated since the last successful sweep whose stored snapshot is older. The watermark makes a
    /// missed run harmless: the next one (the host runs a past-due timer on start) covers the whole gap.
    /// </summary>
    [Function("CatchUp")]
    public Task Run([TimerTrigger(Schedules.CatchUp)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return sweep.RunAsync(context.CancellationToken);
    }
}
