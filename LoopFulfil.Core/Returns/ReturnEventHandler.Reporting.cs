using System.Runtime.ExceptionServices;
using LoopFulfil.Core.Exceptions;

namespace LoopFulfil.Core.Returns;

public sealed partial class ReturnEventHandler
{
    /// <summary>
    /// Records a problem raised outside a stage's own handling, then rethrows a family's transient wait captured earlier
    /// in the pass: completing the message would leave that family never retried. The redelivery reports the problem
    /// again under the same key, which the reporter deduplicates.
    /// </summary>
    private async Task<ReturnHandlingResult> ReportOutsideStagesAsync(ReturnEvent evt, ReturnContext? context, ExceptionDispatchInfo? waiting, ExceptionCategory category, string message, string? detailKey, CancellationToken cancellationToken)
    {
        var record = await _reporter.ReportAsync(
            new ExceptionRaise(category, evt.ReturnId, message) { RawEvent = evt.Body, DetailKey = detailKey, Source = Source },
            cancellationToken).ConfigureAwait(false);
        waiting?.Throw();
        return new ReturnHandlingResult(ReturnHandlingOutcome.ExceptionRaised, evt.ReturnId, context?.State, [.. context?.RaisedExceptions ?? [], record]);
    }
}
