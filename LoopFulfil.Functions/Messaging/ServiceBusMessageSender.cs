using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Functions.Messaging;

/// <summary>
/// Core's <see cref="IMessageSender"/> on Azure Service Bus, through the SDK rather than an output binding: the
/// isolated worker's <c>ServiceBusOutput</c> can only set the body, and <c>loop-returns</c> needs SessionId (it is
/// session-enabled) and MessageId (duplicate detection). See docs/decisions/0003-service-bus-sending.md.
/// </summary>
/// <remarks>
/// One <see cref="ServiceBusSender"/> per queue, created on first use and reused (they share the client's AMQP
/// connection and keep their link open). Any send failure becomes a <see cref="TransientIntegrationException"/>:
/// the webhook answers 503 + Retry-After so Loop delivers again, and a queue trigger's message is redelivered.
/// </remarks>
public sealed partial class ServiceBusMessageSender : IMessageSender, IAsyncDisposable
{
    /// <summary>
    /// Bodies above this go to Table Storage and the message carries a reference. Service Bus Standard refuses messages
    /// over 256 KB (headers and properties included) while Loop's webhook bodies may reach 1 MiB; without this a large
    /// return would be answered 503 on every one of Loop's retries and finally lost.
    /// </summary>
    internal const int ClaimCheckThresholdBytes = 192 * 1024;

    private readonly Func<string, IQueueSender> _createSender;
    private readonly ClaimCheck? _claims;
    private readonly ILogger<ServiceBusMessageSender> _logger;
    private readonly ConcurrentDictionary<string, Lazy<IQueueSender>> _senders = new(StringComparer.Ordinal);
    private int _disposed;

    /// <summary>Sends through <paramref name="client"/> (owned by the caller, e.g. the DI container).</summary>
    public ServiceBusMessageSender(ServiceBusClient client, ClaimCheck claims, ILogger<ServiceBusMessageSender> logger)
        : this(queue => new SdkQueueSender(client.CreateSender(queue)), logger, claims)
    {
        ArgumentNullException.ThrowIfNull(client);
    }

    internal ServiceBusMessageSender(Func<string, IQueueSender> createSender, ILogger<ServiceBusMessageSender> logger, ClaimCheck? claims = null)
    {
        _createSender = createSender;
        _logger = logger;
        _claims = claims;
    }

    /// <summary>Sends <paramref name="message"/> to its queue; throws <see cref="TransientIntegrationException"/> when that fails.</summary>
    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        if (_claims is not null && message.Body.Length > ClaimCheckThresholdBytes)
        {
            // The same claim-check the local queue uses; the queue triggers resolve it before Core sees the message.
            var reference = await _claims.StoreAsync(Guid.NewGuid().ToString("N"), message.Body, cancellationToken).ConfigureAwait(false);
            message = message with
            {
                Body = ReadOnlyMemory<byte>.Empty,
                Properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal) { [ClaimCheck.ReferenceProperty] = reference },
            };
        }

        // Built before the try: a message Service Bus would refuse outright is a bug to see, not a failure to retry.
        var outgoing = OutgoingServiceBusMessage.From(message);
        try
        {
            // Lazy: two first sends to one queue race to the dictionary, but only one sender (one AMQP link) is made.
            var sender = _senders.GetOrAdd(message.Queue, queue => new Lazy<IQueueSender>(() => _createSender(queue))).Value;
            await sender.SendAsync(outgoing, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogSendFailed(_logger, ex, message.MessageId, message.Queue);
            throw new TransientIntegrationException($"Sending message {message.MessageId} to Service Bus queue {message.Queue} failed.", ex);
        }
    }

    /// <summary>Closes the per-queue senders (the client belongs to whoever created it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var sender in _senders.Values.Where(s => s.IsValueCreated))
        {
            await sender.Value.DisposeAsync().ConfigureAwait(false);
        }

        _senders.Clear();
    }

    [LoggerMessage(EventId = 4601, Level = LogLevel.Error, Message = "Sending message {MessageId} to Service Bus queue {Queue} failed")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string messageId, string queue);
}

/// <summary>
/// Everything a <see cref="ServiceBusMessage"/> is built from, decided here so it can be checked without the SDK:
/// the body as received, MessageId, SessionId, <c>application/json</c>, the application properties and, for a
/// redelivery with backoff, the scheduled enqueue time.
/// </summary>
internal sealed record OutgoingServiceBusMessage(
    ReadOnlyMemory<byte> Body,
    string MessageId,
    string? SessionId,
    string ContentType,
    IReadOnlyDictionary<string, string> ApplicationProperties)
{
    /// <summary>Service Bus holds the message back until then (<see cref="OutboundMessage.ScheduledEnqueueTime"/>).</summary>
    public DateTimeOffset? ScheduledEnqueueTime { get; init; }

    /// <summary>Service Bus limits MessageId and SessionId to 128 characters.</summary>
    internal const int MaxIdLength = 128;

    /// <summary>Every LoopFulfil message body is UTF-8 JSON (a Loop event as received, or an alert).</summary>
    internal const string JsonContentType = "application/json";

    internal static OutgoingServiceBusMessage From(OutboundMessage message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message.MessageId, nameof(message));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(message.MessageId.Length, MaxIdLength, nameof(message));
        if (message.SessionId is { } session)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(session, nameof(message));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(session.Length, MaxIdLength, nameof(message));
        }

        return new OutgoingServiceBusMessage(message.Body, message.MessageId, message.SessionId, JsonContentType, message.Properties)
        {
            ScheduledEnqueueTime = message.ScheduledEnqueueTime,
        };
    }

    internal ServiceBusMessage ToServiceBusMessage()
    {
        var sbMessage = new ServiceBusMessage(Body)
        {
            MessageId = MessageId,
            ContentType = ContentType,

            // Never longer than a claim-checked body is kept, whatever the queue's default (MessageLifetimes).
            TimeToLive = MessageLifetimes.TimeToLive,
        };
        if (SessionId is not null)
        {
            sbMessage.SessionId = SessionId;
        }

        if (ScheduledEnqueueTime is { } at)
        {
            // A scheduled message keeps its session and MessageId; duplicate detection applies when it is sent.
            sbMessage.ScheduledEnqueueTime = at;
        }

        foreach (var property in ApplicationProperties)
        {
            sbMessage.ApplicationProperties[property.Key] = property.Value;
        }

        return sbMessage;
    }
}

/// <summary>One queue's sending link; the seam between the sender's bookkeeping and the SDK.</summary>
internal interface IQueueSender : IAsyncDisposable
{
    Task SendAsync(OutgoingServiceBusMessage message, CancellationToken cancellationToken);
}

/// <summary>The SDK's <see cref="ServiceBusSender"/> for one queue.</summary>
internal sealed class SdkQueueSender(ServiceBusSender sender) : IQueueSender
{
    public Task SendAsync(OutgoingServiceBusMessage message, CancellationToken cancellationToken) =>
        sender.SendMessageAsync(message.ToServiceBusMessage(), cancellationToken);

    public ValueTask DisposeAsync() => sender.DisposeAsync();
}
