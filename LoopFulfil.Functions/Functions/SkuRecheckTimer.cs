using LoopFulfil.Core.Exceptions;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class SkuRecheckTimer
{
    private readonly SkuExceptionRechecker rechecker;

    public SkuRecheckTimer(SkuExceptionRechecker rechecker) => this.rechecker = rechecker;

    /// <summary>
    /// On <see cref="Schedules.SkuRecheck"/> (default every 15 minutes): <see cref="SkuExceptionRechecker.RunAsync"/>
    /// replays the open SKU exception records whose SKUs are all active in Fulfil now.
    /// </summary>
    [Function("SkuRecheck")]
    public Task Run([TimerTrigger(Schedules.SkuRecheck)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return rechecker.RunAsync(context.CancellationToken);
    }
}
