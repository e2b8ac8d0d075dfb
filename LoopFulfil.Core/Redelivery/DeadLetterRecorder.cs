using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Redelivery;

/// <summary>A message a host gave up on: moved to a dead-letter (poison) queue, or parked after its last attempt.</summary>
/// <param name="Queue">The queue it was consumed from.</param>
/// <param name="Message">The message, its claim-checked body in place when it could be read.</param>
/// <param name="Reason">Why (Service Bus <c>DeadLetterReason</c>, the single-machine host's poison reason, or <see cref="MessageRedelivery.AttemptsExhaustedReason"/>).</param>
/// <param name="ErrorDescription">The last failure, when known.</param>
public sealed record DeadLetteredMessage(string Queue, InboundMessage Message, string Reason, string? ErrorDescription);

/// <summary>
/// Turns every message a host gave up on into a <see cref="ExceptionCategory.DeadLettered"/> exception record with its
/// body, so its owner sees it and <c>exceptions replay</c> (or <c>POST /api/ops/exceptions/{id}/replay</c>) sends it
/// again under a fresh MessageId. The one entry point of the Functions dead-letter triggers, the single-machine
/// poison queues (through the local host's poison sink) and parking after the last backoff attempt.
/// </summary>
/// <remarks>
/// <c>loop-returns</c> messages are stored as a routable Loop event (topic and trigger from the message properties
/// when the body lacks them, as repair messages do), replayed through webhook routing; other queues' messages are
/// stored as they are and replayed onto their queue. Alerts of the <c>exceptions</c> queue are only logged: each alerts
/// about a record that already exists, and recording it would raise another alert on the same failing queue.
/// </remarks>
public sealed partial class DeadLetterRecorder
{
    /// <summary>Service Bus application property naming why a message was dead-lettered.</summary>
    public const string DeadLetterReasonProperty = "DeadLetterReason";

    /// <summary>Service Bus application property with the dead-letter error description.</summary>
    public const string DeadLetterErrorDescriptionProperty = "DeadLetterErrorDescription";

    private readonly ExceptionService _exceptions;
    private readonly ClaimCheck _claims;
    private readonly ILogger<DeadLetterRecorder> _logger;

    public DeadLetterRecorder(ExceptionService exceptions, ClaimCheck claims, ILogger<DeadLetterRecorder> logger)
    {
        _exceptions = exceptions;
        _claims = claims;
        _logger = logger;
    }

    /// <summary>The Functions dead-letter trigger's entry point: a message received from <c>{queue}/$DeadLetterQueue</c>.</summary>
    public Task<ExceptionRecord?> RecordFromDeadLetterQueueAsync(string queue, InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var reason = message.Properties.GetValueOrDefault(DeadLetterReasonProperty) is { Length: > 0 } r ? r : "DeadLettered";
        return RecordAsync(new DeadLetteredMessage(queue, message, reason, message.Properties.GetValueOrDefault(DeadLetterErrorDescriptionProperty)), cancellationToken);
    }

    /// <summary>Raises (or refreshes) the record; null for the <c>exceptions</c> queue, whose alerts are only logged.</summary>
    public async Task<ExceptionRecord?> RecordAsync(DeadLetteredMessage deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        var message = await ResolveBodyAsync(deadLetter.Message, cancellationToken).ConfigureAwait(false);
        var queue = deadLetter.Queue;
        if (queue == QueueNames.Exceptions)
        {
            LogAlertDeadLettered(_logger, message.MessageId, deadLetter.Reason);
            return null;
        }

        var returnId = message.SessionId ?? message.Properties.GetValueOrDefault(WebhookMessagePropertyNames.ReturnId);
        var original = message.Properties.GetValueOrDefault(MessageRedelivery.OriginalMessageIdProperty) is { Length: > 0 } first ? first : message.MessageId;
        var isLoopEvent = queue == QueueNames.LoopReturns;
        var text = string.Create(CultureInfo.InvariantCulture, $"Message {message.MessageId} on {queue} was dead-lettered ({deadLetter.Reason}) after {message.DeliveryCount} deliveries")
            + (string.IsNullOrEmpty(deadLetter.ErrorDescription) ? "." : $": {deadLetter.ErrorDescription}");
        var record = await _exceptions.RaiseAsync(
            new ExceptionRaise(ExceptionCategory.DeadLettered, returnId, text)
            {
                // Loop events are level-triggered: one record per return, refreshed with the newest event. Other
                // messages each stand for their own work (an exchange order): one record per message chain.
                DetailKey = isLoopEvent && returnId is not null ? queue : $"{queue}:{original}",
                RawEvent = isLoopEvent ? RoutableLoopEvent(message) : message.Body,
                ReplayQueue = isLoopEvent ? null : queue,
                Source = "dead-letter:" + queue,
            },
            cancellationToken).ConfigureAwait(false);
        LogRecorded(_logger, message.MessageId, queue, deadLetter.Reason, record.Id);
        return record;
    }

    /// <summary>Exception type and message, at most 1,024 characters (what the dead-letter description holds).</summary>
    public static string Describe(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var text = $"{failure.GetType().FullName}: {failure.Message}";
        return text.Length <= 1024 ? text : text[..1024];
    }

    /// <summary>
    /// The body as a Loop event that webhook routing accepts on replay: as it is when it routes, otherwise (a repair
    /// or catch-up message: the return's snapshot without topic and trigger) with those taken from the message.
    /// </summary>
    internal static ReadOnlyMemory<byte> RoutableLoopEvent(InboundMessage message)
    {
        if (WebhookIngress.DescribeRoutingProblem(message.Body.Span) is null
            || message.Properties.GetValueOrDefault(WebhookMessagePropertyNames.Topic) is not { Length: > 0 } topic
            || message.Properties.GetValueOrDefault(WebhookMessagePropertyNames.Trigger) is not { Length: > 0 } trigger)
        {
            return message.Body;
        }

        try
        {
            if (JsonNode.Parse(message.Body.Span) is not JsonObject root)
            {
                return message.Body;
            }

            root["topic"] ??= topic;
            root["trigger"] ??= trigger;
            return JsonSerializer.SerializeToUtf8Bytes(root);
        }
        catch (JsonException)
        {
            return message.Body;
        }
    }

    private async Task<InboundMessage> ResolveBodyAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await _claims.ResolveAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException)
        {
            // The stored body itself is gone: the record still names the message, with the reference.
            return message;
        }
    }

    [LoggerMessage(EventId = 5311, Level = LogLevel.Warning, Message = "Dead-lettered message {MessageId} of {Queue} ({Reason}) recorded as exception {ExceptionId}")]
    private static partial void LogRecorded(ILogger logger, string messageId, string queue, string reason, string exceptionId);

    [LoggerMessage(EventId = 5312, Level = LogLevel.Error, Message = "Alert message {MessageId} was dead-lettered ({Reason}); its exception record already exists, so none is raised")]
    private static partial void LogAlertDeadLettered(ILogger logger, string messageId, string reason);
}
