using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Shadow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Redelivery;

/// <summary>What <see cref="MessageRedelivery.HandleAsync"/> did; in every case the delivered message may be completed.</summary>
public enum RedeliveryOutcome
{
    /// <summary>The handler succeeded.</summary>
    Completed,

    /// <summary>The handler failed transiently; a copy was sent to come back after the backoff delay.</summary>
    Rescheduled,

    /// <summary>The handler failed transiently too often; the message is now a <c>DeadLettered</c> exception record.</summary>
    Parked,

    /// <summary>
    /// Shadow mode: the handler planned a write (<see cref="ShadowWritePlannedException"/>), which is recorded in the
    /// plan; the message is done in shadow, neither retried nor dead-lettered (a replay after going live must not
    /// make what the existing process made).
    /// </summary>
    CompletedInShadow,
}

/// <summary>
/// The one entry point both hosts run every queue message through: backoff instead of a redelivery storm. A
/// transient failure (<see cref="RedeliveryPolicy.IsTransient"/>) sends a copy of the message scheduled after the
/// delay <see cref="RedeliveryPolicy"/> chooses and returns, so the host completes the original; after
/// <see cref="RedeliveryOptions.MaxAttempts"/> it parks the message as an exception record instead.
/// </summary>
/// <remarks>
/// <para>The copy keeps the session (Loop's return id), the body and the properties, and carries the failed
/// attempts so far in <see cref="AttemptsProperty"/>. Its MessageId is derived from the first message's id and the
/// reschedule number (<see cref="RescheduledMessageId"/>): if the host crashes after sending the copy and before
/// completing the original, the original's redelivery sends the same id and duplicate detection drops it.</para>
/// <para>Any other failure escapes untouched (the host's own redelivery, then its dead-letter queue, apply), and so
/// does the original failure when the copy cannot be sent or the record cannot be written: nothing is completed that
/// is not safe elsewhere.</para>
/// <para>A session's later messages may overtake a rescheduled one. That is safe because the returns handler is
/// level-triggered on the newest snapshot (an older one is recognised as stale).</para>
/// </remarks>
public sealed partial class MessageRedelivery
{
    /// <summary>Failed attempts before this message (absent: none).</summary>
    public const string AttemptsProperty = "LoopFulfil-Attempts";

    /// <summary>How many times the message was rescheduled (absent: never).</summary>
    public const string RescheduleProperty = "LoopFulfil-Reschedule";

    /// <summary>The MessageId of the first message of a rescheduled chain.</summary>
    public const string OriginalMessageIdProperty = "LoopFulfil-RescheduleOf";

    /// <summary><see cref="DeadLetteredMessage.Reason"/> of a message parked after its last attempt.</summary>
    public const string AttemptsExhaustedReason = "RedeliveryAttemptsExhausted";

    private const int MaxMessageIdLength = 128;

    private readonly IMessageSender _sender;
    private readonly DeadLetterRecorder _deadLetters;
    private readonly IOptionsMonitor<RedeliveryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MessageRedelivery> _logger;

    public MessageRedelivery(IMessageSender sender, DeadLetterRecorder deadLetters, IOptionsMonitor<RedeliveryOptions> options, TimeProvider time, ILogger<MessageRedelivery> logger)
    {
        _sender = sender;
        _deadLetters = deadLetters;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Runs <paramref name="handler"/> on <paramref name="message"/> from <paramref name="queue"/>. Returns normally
    /// when the host should complete the message; throws when it should redeliver it itself.
    /// </summary>
    public async Task<RedeliveryOutcome> HandleAsync(string queue, InboundMessage message, Func<InboundMessage, CancellationToken, Task> handler, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(handler);

        Exception failure;
        try
        {
            await handler(message, cancellationToken).ConfigureAwait(false);
            return RedeliveryOutcome.Completed;
        }
        catch (Exception ex) when (ShadowRuns.Planned(ex) is { } planned && !cancellationToken.IsCancellationRequested)
        {
            LogDoneInShadow(_logger, queue, message.MessageId, planned.Write.Model, planned.Write.Method);
            return RedeliveryOutcome.CompletedInShadow;
        }
        catch (Exception ex) when (RedeliveryPolicy.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            failure = ex;
        }

        var attempt = AttemptOf(message);
        var decision = RedeliveryPolicy.Decide(attempt, failure, _options.CurrentValue);
        try
        {
            if (decision.Park)
            {
                await _deadLetters.RecordAsync(
                    new DeadLetteredMessage(queue, message, AttemptsExhaustedReason, $"Failed {attempt} times, last: {DeadLetterRecorder.Describe(failure)}"),
                    cancellationToken).ConfigureAwait(false);
                LogParked(_logger, queue, message.MessageId, attempt);
                return RedeliveryOutcome.Parked;
            }

            var next = Rescheduled(queue, message, attempt, _time.GetUtcNow() + decision.Delay);
            await _sender.SendAsync(next, cancellationToken).ConfigureAwait(false);
            LogRescheduled(_logger, queue, message.MessageId, attempt, next.MessageId, decision.Delay.TotalSeconds);
            return RedeliveryOutcome.Rescheduled;
        }
        catch (Exception settleError) when (!cancellationToken.IsCancellationRequested)
        {
            // The copy or the record is not safe: let the host redeliver the original as it would without backoff.
            LogSettleFailed(_logger, settleError, queue, message.MessageId);
            ExceptionDispatchInfo.Throw(failure);
            throw;
        }
    }

    /// <summary>This delivery's attempt number: the failed attempts carried by the message plus its delivery count.</summary>
    public static int AttemptOf(InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Carried(message, AttemptsProperty) + Math.Max(1, message.DeliveryCount);
    }

    /// <summary>The copy of <paramref name="message"/> to deliver at <paramref name="notBefore"/> after failed attempt <paramref name="attempt"/>.</summary>
    public static OutboundMessage Rescheduled(string queue, InboundMessage message, int attempt, DateTimeOffset notBefore)
    {
        ArgumentNullException.ThrowIfNull(message);
        var original = message.Properties.GetValueOrDefault(OriginalMessageIdProperty) is { Length: > 0 } first ? first : message.MessageId;
        var reschedule = Carried(message, RescheduleProperty) + 1;
        var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal)
        {
            [AttemptsProperty] = attempt.ToString(CultureInfo.InvariantCulture),
            [RescheduleProperty] = reschedule.ToString(CultureInfo.InvariantCulture),
            [OriginalMessageIdProperty] = original,
        };
        return new OutboundMessage(queue, message.Body, RescheduledMessageId(original, reschedule), message.SessionId, properties)
        {
            ScheduledEnqueueTime = notBefore,
        };
    }

    /// <summary>
    /// <c>{original}~r{n}</c>, or (when that would pass Service Bus's 128 characters) a hash of the original with
    /// the number: the same inputs always give the same id, so a repeated reschedule is a duplicate.
    /// </summary>
    public static string RescheduledMessageId(string originalMessageId, int reschedule)
    {
        ArgumentException.ThrowIfNullOrEmpty(originalMessageId);
        var suffix = string.Create(CultureInfo.InvariantCulture, $"~r{reschedule}");
        if (originalMessageId.Length + suffix.Length <= MaxMessageIdLength)
        {
            return originalMessageId + suffix;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(originalMessageId)));
        return "rescheduled-" + hash + suffix;
    }

    private static int Carried(InboundMessage message, string property) =>
        message.Properties.TryGetValue(property, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : 0;

    [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "Queue {Queue}: message {MessageId} failed transiently on attempt {Attempt}; rescheduled as {NextMessageId} in {DelaySeconds} s")]
    private static partial void LogRescheduled(ILogger logger, string queue, string messageId, int attempt, string nextMessageId, double delaySeconds);

    [LoggerMessage(EventId = 5302, Level = LogLevel.Error, Message = "Queue {Queue}: message {MessageId} failed transiently on its last attempt ({Attempt}); parked as an exception record")]
    private static partial void LogParked(ILogger logger, string queue, string messageId, int attempt);

    [LoggerMessage(EventId = 5304, Level = LogLevel.Information, Message = "Queue {Queue}: message {MessageId} planned a write in shadow mode ({Model}.{Method}, recorded in the shadow plan); completed as done in shadow")]
    private static partial void LogDoneInShadow(ILogger logger, string queue, string messageId, string model, string method);

    [LoggerMessage(EventId = 5303, Level = LogLevel.Error, Message = "Queue {Queue}: could not reschedule or park message {MessageId}; the host redelivers it")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string queue, string messageId);
}
