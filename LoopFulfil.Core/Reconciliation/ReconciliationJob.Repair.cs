using System.Text.Json;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// The repair half of <see cref="ReconciliationJob"/>: re-sends only what nothing else covers. A return one of whose
/// ledger steps is leased right now is being worked on (its worker repairs it; the next run checks again); an exchange
/// whose order step is done or leased has its document or its worker, so it is not re-sent.
/// </summary>
public sealed partial class ReconciliationJob
{
    /// <summary>One <c>loop-returns</c> message per return to repair (its newest Loop snapshot), or a <c>loop-exchanges</c> message per missing exchange already handed off.</summary>
    private async Task<int> HealAsync(string runId, Dictionary<string, LoopReturn> returns, List<ReconciliationMismatch> mismatches, HashSet<string> blocked, CancellationToken cancellationToken)
    {
        var sent = 0;
        var healedReturns = new HashSet<string>(StringComparer.Ordinal);
        var steps = new Dictionary<string, IReadOnlyList<StepRecord>>(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        for (var i = 0; i < mismatches.Count; i++)
        {
            var m = mismatches[i];
            if (!ReconciliationMismatchKinds.IsHealable(m) || blocked.Contains(m.ReturnId) || !returns.TryGetValue(m.ReturnId, out var r))
            {
                continue;
            }

            if (!steps.TryGetValue(m.ReturnId, out var returnSteps))
            {
                // Read now, not when the run started: a worker may have taken (or finished) a step since.
                returnSteps = await _ledger.GetStepsAsync(m.ReturnId, cancellationToken).ConfigureAwait(false);
                steps[m.ReturnId] = returnSteps;
            }

            if (m.Kind == ReconciliationMismatchKind.MissingExchangeOrder && m.Reference is { } reference
                && _references.Parse(reference) is { Suffix: { } key } parsed && parsed.ReturnId == m.ReturnId)
            {
                if (Step(returnSteps, OutcomeSteps.ExchangeEnqueued(key)) is { Status: StepStatus.Done })
                {
                    // The hand-off to loop-exchanges is recorded, so re-running the return would not resend it.
                    var order = Step(returnSteps, OutcomeSteps.ExchangeOrder(key));
                    if (order is not null && (order.Status == StepStatus.Done || order.IsLeasedAt(now)))
                    {
                        // The order step is done (its document exists) or a worker holds it: a resend would only race it.
                        LogLeftToWorker(_logger, m.ReturnId, reference, runId);
                        mismatches[i] = m with { Healed = true };
                        continue;
                    }

                    var body = JsonSerializer.SerializeToUtf8Bytes(new ExchangeMessage(m.ReturnId, key));
                    var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["returnId"] = m.ReturnId, ["exchangeKey"] = key, ["reconciliationRun"] = runId };
                    await _sender.SendAsync(new OutboundMessage(QueueNames.LoopExchanges, body, $"reconcile-{runId}-exchange-{m.ReturnId}-{key}", null, properties), cancellationToken).ConfigureAwait(false);
                    sent++;
                    mismatches[i] = m with { Healed = true };
                    continue;
                }
            }

            if (returnSteps.Any(s => s.IsLeasedAt(now)))
            {
                // A worker is on this return now; it finishes the missing steps or fails into a retry or a record.
                LogLeftToWorker(_logger, m.ReturnId, m.Reference, runId);
                mismatches[i] = m with { Healed = true };
                continue;
            }

            if (healedReturns.Add(m.ReturnId))
            {
                await _sender.SendAsync(HealMessage(runId, r), cancellationToken).ConfigureAwait(false);
                sent++;
                LogHealed(_logger, m.ReturnId, runId);
            }

            mismatches[i] = m with { Healed = true };
        }

        return sent;

        static StepRecord? Step(IReadOnlyList<StepRecord> all, string name) => all.FirstOrDefault(s => string.Equals(s.Step, name, StringComparison.Ordinal));
    }

    /// <summary>
    /// The return's current Loop snapshot as a <c>return.updated</c>/<c>return.closed</c> event: the handler applies it
    /// (or a newer stored one) and runs only the missing steps. The MessageId is unique to the run, so duplicate
    /// detection does not drop it as a repeat of the original webhook or of yesterday's heal.
    /// </summary>
    internal static OutboundMessage HealMessage(string runId, LoopReturn r) =>
        ReturnRepairMessage.Build(r, $"reconcile-{runId}-{r.Id}", new Dictionary<string, string>(StringComparer.Ordinal) { ["reconciliationRun"] = runId });

    [LoggerMessage(EventId = 4805, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} not re-sent by reconciliation {RunId}: a worker holds its step, or its document exists")]
    private static partial void LogLeftToWorker(ILogger logger, string returnId, string? reference, string runId);
}
