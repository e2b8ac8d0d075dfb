using System.Diagnostics;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;

namespace LoopFulfil.Core.Hosting;

/// <summary>
/// What both hosts do with one delivered queue message: put a claim-checked body back (the sender claim-checks large
/// bodies on every queue), then run the queue's entry point through <see cref="MessageRedelivery"/> (a transient
/// failure becomes a delayed copy). A failure that escapes is the transport's to redeliver and dead-letter.
/// </summary>
public sealed class QueueEntryRunner
{
    private readonly ClaimCheck _claims;
    private readonly MessageRedelivery _redelivery;

    public QueueEntryRunner(ClaimCheck claims, MessageRedelivery redelivery)
    {
        _claims = claims;
        _redelivery = redelivery;
    }

    /// <param name="queue">The queue the message came from (<see cref="EntryPoints.Queues"/>).</param>
    /// <param name="services">The delivery's DI scope (the function invocation's, or the dispatcher's per message).</param>
    /// <param name="message">The delivered message.</param>
    /// <param name="cancellationToken">Host shutdown or invocation cancellation.</param>
    public async Task RunAsync(string queue, IServiceProvider services, InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(message);
        var entry = EntryPoints.Queue(queue);

        // One span per delivery; tags are the queue and the outcome only (message ids carry no personal data, bodies might).
        using var activity = LoopFulfilTelemetry.Source.StartActivity(entry.Function, ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", entry.Queue);
        activity?.SetTag("messaging.message.id", message.MessageId);

        var resolved = await _claims.ResolveAsync(message, cancellationToken).ConfigureAwait(false);
        var outcome = await _redelivery.HandleAsync(entry.Queue, resolved, (m, ct) => entry.Handle(services, m, ct), cancellationToken).ConfigureAwait(false);
        activity?.SetTag("loopfulfil.redelivery", outcome.ToString());
    }
}
