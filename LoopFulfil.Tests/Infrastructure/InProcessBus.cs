using System.Collections.Concurrent;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>One delivery attempt made by <see cref="InProcessBus"/>.</summary>
internal sealed record BusDelivery(string MessageId, string? SessionId, int DeliveryCount, ReturnHandlingResult? Result, Exception? Error);

/// <summary>
/// Service Bus in miniature: a FIFO of <c>loop-returns</c> messages; a delivery that throws a transient error is
/// abandoned and delivered again (DeliveryCount + 1) before anything behind it, as a session would; after
/// <see cref="MaxDeliveryCount"/> it is dead-lettered. Any other exception escaping the handler fails the test.
/// Duplicate detection is deliberately off: the handler must be idempotent on its own.
/// </summary>
internal sealed class InProcessBus : IMessageSender
{
    private readonly LinkedList<(OutboundMessage Message, int DeliveryCount)> _pending = new();
    private readonly Lock _gate = new();

    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>
    /// The services' clock, when a test drives it: a delivery that failed asking to wait (<see
    /// cref="TransientIntegrationException.RetryAfter"/>, e.g. a step lease kept after a create timed out) is
    /// redelivered after that wait, as Service Bus's scheduled redelivery would be, by advancing this clock past it.
    /// Without it the redelivery comes at once (and meets the held lease again).
    /// </summary>
    public FakeTimeProvider? Clock { get; set; }

    /// <summary>Lets the wait <paramref name="error"/> asks for pass on <see cref="Clock"/> (when set) before a redelivery.</summary>
    public void WaitOut(Exception error)
    {
        if (Clock is not null && error is TransientIntegrationException { RetryAfter: { } wait } && wait > TimeSpan.Zero)
        {
            Clock.Advance(wait + TimeSpan.FromSeconds(1));
        }
    }

    public ConcurrentQueue<OutboundMessage> OtherQueues { get; } = new();

    public ConcurrentQueue<BusDelivery> Deliveries { get; } = new();

    public ConcurrentQueue<OutboundMessage> DeadLettered { get; } = new();

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Queue == QueueNames.LoopReturns)
        {
            lock (_gate)
            {
                _pending.AddLast((message, 0));
            }
        }
        else
        {
            OtherQueues.Enqueue(message);
        }

        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<BusDelivery>> DrainAsync(Func<InboundMessage, CancellationToken, Task<ReturnHandlingResult>> handle)
    {
        var made = new List<BusDelivery>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            (OutboundMessage Message, int DeliveryCount) next;
            lock (_gate)
            {
                if (_pending.First is null)
                {
                    return made;
                }

                next = _pending.First.Value;
                _pending.RemoveFirst();
            }

            var count = next.DeliveryCount + 1;
            var m = next.Message;
            var inbound = new InboundMessage(m.Body, m.MessageId, m.SessionId, count, m.Properties);
            BusDelivery delivery;
            try
            {
                var result = await handle(inbound, timeout.Token);
                delivery = new BusDelivery(m.MessageId, m.SessionId, count, result, null);
            }
            catch (Exception ex) when (IsTransient(ex, timeout.Token))
            {
                delivery = new BusDelivery(m.MessageId, m.SessionId, count, null, ex);
                if (count >= MaxDeliveryCount)
                {
                    DeadLettered.Enqueue(m);
                }
                else
                {
                    WaitOut(ex);
                    lock (_gate)
                    {
                        _pending.AddFirst((m, count));
                    }
                }
            }

            made.Add(delivery);
            Deliveries.Enqueue(delivery);
        }
    }

    private static bool IsTransient(Exception ex, CancellationToken token) =>
        ex is TransientIntegrationException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && !token.IsCancellationRequested);
}

/// <summary>Records what the services send, then hands it to the bus.</summary>
internal sealed class RecordingSender(InProcessBus bus) : IMessageSender
{
    private readonly ConcurrentQueue<OutboundMessage> _sent = new();

    public IReadOnlyList<OutboundMessage> Messages => [.. _sent];

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        _sent.Enqueue(message);
        return bus.SendAsync(message, cancellationToken);
    }
}
