using System.Text.Json;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// The <c>loop-returns</c> message that makes the pipeline settle a return on its current Loop snapshot: the
/// reconciliation's heal and the catch-up sweep send it. The return as Loop lists it, as a
/// <c>return.updated</c>/<c>return.closed</c> event; the handler applies it (or a newer stored snapshot) and runs
/// only the missing steps, so sending it twice creates nothing twice. Stamped through
/// <see cref="IntegrationMessages.ToLoopReturns"/> like every other message of the integration's own.
/// </summary>
public static class ReturnRepairMessage
{
    /// <summary>
    /// Builds it under <paramref name="messageId"/> (also its dedupe key), with <paramref name="extra"/> properties
    /// (topic, trigger, return id and event time win over same-named ones).
    /// </summary>
    public static OutboundMessage Build(LoopReturn loopReturn, string messageId, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(loopReturn);
        return BuildAt(loopReturn, WebhookEnvelope.SnapshotTimeOf(loopReturn), messageId, extra);
    }

    /// <summary>
    /// <see cref="Build"/> for a caller that already has the return's time (<see cref="WebhookEnvelope.SnapshotTimeOf"/>),
    /// so the return is not written out a second time to find it.
    /// </summary>
    public static OutboundMessage BuildAt(LoopReturn loopReturn, DateTimeOffset? eventTime, string messageId, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(loopReturn);
        ArgumentException.ThrowIfNullOrEmpty(loopReturn.Id);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var trigger = ReturnStates.Normalise(loopReturn.State) == ReturnStates.Closed ? ReturnTriggers.ReturnClosed : ReturnTriggers.ReturnUpdated;
        var body = JsonSerializer.SerializeToUtf8Bytes(loopReturn, LoopJson.Options);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { [WebhookMessagePropertyNames.DedupeKey] = messageId };
        if (!string.IsNullOrEmpty(loopReturn.State))
        {
            properties[WebhookMessagePropertyNames.State] = loopReturn.State;
        }

        foreach ((var key, var value) in extra ?? new Dictionary<string, string>())
        {
            properties[key] = value;
        }

        // The return's time by the envelope reader's own rule, as a webhook of it would carry: the consumer need not
        // read the body, and the catch-up sweep's skip test and message id use the same time.
        return IntegrationMessages.ToLoopReturns(trigger, loopReturn.Id, body, messageId, eventTime, properties);
    }
}
