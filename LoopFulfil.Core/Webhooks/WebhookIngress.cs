using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Webhooks;

/// <summary>
/// The Loop webhook entry point shared by both hosts: read the body (bounded), verify <c>X-Loop-Signature</c>,
/// read the envelope, and either build the <c>loop-returns</c> message or park the event as an exception record.
/// No Loop or Fulfil call happens here; the only I/O besides the body is Table Storage when an event is parked.
/// </summary>
/// <remarks>
/// <see cref="HandleAsync"/> does not enqueue: it returns the message. Both hosts send it through
/// <see cref="HandleAndSendAsync"/> with their own <see cref="IMessageSender"/> (Functions: the Service Bus SDK, since
/// the output binding cannot set MessageId/SessionId; one machine: Azurite queues), so 202 means it is queued.
/// </remarks>
public sealed partial class WebhookIngress : IDisposable
{
    private readonly ExceptionService exceptions;
    private readonly ILogger<WebhookIngress> logger;
    private readonly IDisposable? optionsSubscription;
    private volatile Settings settings;

    public WebhookIngress(IOptionsMonitor<WebhookOptions> options, ExceptionService exceptions, ILogger<WebhookIngress> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.exceptions = exceptions;
        this.logger = logger;
        settings = new Settings(options.CurrentValue);
        optionsSubscription = options.OnChange(o => settings = new Settings(o));
    }

    /// <summary>
    /// Handles one delivery. Returns the response to send when <see cref="WebhookIngressResult.Message"/> (if any)
    /// has been enqueued. 401 for a missing/invalid signature, 413 for an oversize body, 202 for a routed or parked
    /// event, 503 + Retry-After when a signed event could not be parked (storage down) so Loop retries.
    /// </summary>
    public async ValueTask<WebhookIngressResult> HandleAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        Settings current = settings;
        if (!current.IsConfigured)
        {
            // Answering 401 would make Loop give up on every event; 503 keeps them coming back until fixed.
            LogNotConfigured(logger);
            return new(current.NotConfigured, null);
        }

        if (string.IsNullOrWhiteSpace(request.Signature))
        {
            LogRejected(logger, 401, "missing_signature");
            return new(WebhookResponse.MissingSignature, null);
        }

        if (request.ContentLength > current.MaxBodyBytes)
        {
            LogRejected(logger, 413, "declared_length");
            return new(WebhookResponse.TooLarge, null);
        }

        (byte[]? buffer, int length) = await ReadBodyAsync(request.Body, request.ContentLength, current.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (buffer is null)
        {
            LogRejected(logger, 413, "body_length");
            return new(WebhookResponse.TooLarge, null);
        }

        ReadOnlyMemory<byte> body = buffer.AsMemory(0, length);
        if (!SignatureIsValid(body.Span, request.Signature, current))
        {
            LogRejected(logger, 401, "invalid_signature");
            return new(WebhookResponse.InvalidSignature, null);
        }

        WebhookEnvelope envelope = WebhookEnvelope.Parse(body.Span);
        if (envelope.IsRoutable)
        {
            OutboundMessage message = BuildMessage(envelope, body);
            LogQueued(logger, envelope.Trigger, envelope.ReturnId, message.MessageId);
            return new(WebhookResponse.Queued, message);
        }

        return new(await ParkAsync(envelope, body, current, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>
    /// For hosts that send directly (the single-machine host): handles the delivery and sends the message; when the
    /// send fails the answer becomes 503 + Retry-After so Loop delivers again.
    /// </summary>
    public async ValueTask<WebhookResponse> HandleAndSendAsync(WebhookRequest request, IMessageSender sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        WebhookIngressResult result = await HandleAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Message is null)
        {
            return result.Response;
        }

        try
        {
            await sender.SendAsync(result.Message, cancellationToken).ConfigureAwait(false);
            return result.Response;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogEnqueueFailed(logger, ex, result.Message.MessageId);
            return EnqueueFailed();
        }
    }

    /// <summary>The answer when the host could not enqueue the message: 503 with Retry-After, so Loop retries.</summary>
    public WebhookResponse EnqueueFailed() => settings.EnqueueFailed;

    /// <summary>Builds the <c>loop-returns</c> message for a stored raw event (used by replay), or null when it does not route.</summary>
    internal static OutboundMessage? TryBuildMessage(ReadOnlyMemory<byte> body, string? messageIdSuffix, string? replayOf)
    {
        WebhookEnvelope envelope = WebhookEnvelope.Parse(body.Span);
        return envelope.IsRoutable ? BuildMessage(envelope, body, messageIdSuffix, replayOf) : null;
    }

    /// <summary>Why a stored raw event does not route, for operators; null when it does.</summary>
    internal static string? DescribeRoutingProblem(ReadOnlySpan<byte> body)
    {
        WebhookEnvelope envelope = WebhookEnvelope.Parse(body);
        return envelope.IsRoutable ? null : envelope.Describe();
    }

    public void Dispose() => optionsSubscription?.Dispose();

    internal static bool SignatureIsValid(ReadOnlySpan<byte> body, string? header, Settings settings)
    {
        if (header is null)
        {
            return false;
        }

        // 32 bytes are 44 base64 characters; anything that does not decode to exactly 32 bytes is not a signature.
        Span<byte> presented = stackalloc byte[48];
        if (!Convert.TryFromBase64String(header, presented, out int written) || written != HMACSHA256.HashSizeInBytes)
        {
            return false;
        }

        Span<byte> computed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(settings.PrimaryKey, body, computed);
        if (CryptographicOperations.FixedTimeEquals(computed, presented[..written]))
        {
            return true;
        }

        if (settings.SecondaryKey is { } secondary)
        {
            HMACSHA256.HashData(secondary, body, computed);
            return CryptographicOperations.FixedTimeEquals(computed, presented[..written]);
        }

        return false;
    }

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> + 1 bytes. Returns a null buffer when the body is longer than the
    /// limit. With a declared length the body is read straight into an array of that size; otherwise through a
    /// pooled buffer that is copied once at the end.
    /// </summary>
    internal static async ValueTask<(byte[]? Buffer, int Length)> ReadBodyAsync(Stream stream, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        byte[] probe = ArrayPool<byte>.Shared.Rent(1);
        try
        {
            if (contentLength is long declared and >= 0 and <= int.MaxValue && declared <= maxBytes)
            {
                var exact = new byte[declared];
                int read = await stream.ReadAtLeastAsync(exact, exact.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < exact.Length)
                {
                    // The sender stopped early: what arrived is the body (its signature will tell).
                    return (exact, read);
                }

                int extra = await stream.ReadAsync(probe.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
                if (extra == 0)
                {
                    return (exact, read);
                }

                // More bytes than declared (a host that does not enforce framing): keep reading under the limit.
                return await ReadUnknownLengthAsync(stream, exact, probe[0], maxBytes, cancellationToken).ConfigureAwait(false);
            }

            return await ReadUnknownLengthAsync(stream, [], null, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(probe);
        }
    }

    private static async ValueTask<(byte[]? Buffer, int Length)> ReadUnknownLengthAsync(Stream stream, byte[] prefix, byte? nextByte, int maxBytes, CancellationToken cancellationToken)
    {
        int limit = maxBytes + 1;
        int initial = Math.Max(prefix.Length + 1, Math.Min(limit, 16 * 1024));
        if (prefix.Length + (nextByte.HasValue ? 1 : 0) > maxBytes)
        {
            return (null, 0);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(initial);
        try
        {
            prefix.CopyTo(rented, 0);
            int total = prefix.Length;
            if (nextByte is byte b)
            {
                rented[total++] = b;
            }

            while (true)
            {
                int capacity = Math.Min(rented.Length, limit);
                if (total == capacity)
                {
                    if (capacity == limit)
                    {
                        return (null, 0);
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, rented.Length * 2));
                    rented.AsSpan(0, total).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                    continue;
                }

                int n = await stream.ReadAsync(rented.AsMemory(total, capacity - total), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
                if (total > maxBytes)
                {
                    return (null, 0);
                }
            }

            return (rented.AsSpan(0, total).ToArray(), total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static OutboundMessage BuildMessage(in WebhookEnvelope envelope, ReadOnlyMemory<byte> body, string? messageIdSuffix = null, string? replayOf = null)
    {
        string dedupeKey = envelope.ComputeMessageId(body.Span);
        string messageId = messageIdSuffix is null ? dedupeKey : string.Concat(dedupeKey, messageIdSuffix);
        string returnId = envelope.ReturnId!;
        var properties = new WebhookMessageProperties(envelope.Topic, envelope.Trigger!, returnId, envelope.State, dedupeKey, replayOf);
        return new OutboundMessage(QueueNames.LoopReturns, body, messageId, returnId, properties);
    }

    private async Task<WebhookResponse> ParkAsync(WebhookEnvelope envelope, ReadOnlyMemory<byte> body, Settings current, CancellationToken cancellationToken)
    {
        ExceptionCategory category = envelope.Problem is EnvelopeProblem.UnknownTrigger or EnvelopeProblem.MissingTrigger
            ? ExceptionCategory.UnknownTopic
            : ExceptionCategory.UnparseableEvent;
        string bodyHash = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        var raise = new ExceptionRaise(category, envelope.ReturnId ?? BestEffortReturnId(envelope, body.Span), envelope.Describe())
        {
            // One record per distinct body: the same delivery retried bumps attempts, a different bad event is its own record.
            DetailKey = bodyHash,
            RawEvent = body,
            Source = envelope.Trigger is null ? "webhook" : $"webhook:{envelope.Trigger}",
        };

        try
        {
            ExceptionRecord record = await exceptions.RaiseAsync(raise, cancellationToken).ConfigureAwait(false);
            LogParked(logger, record.Id, category, record.Owner, record.Attempts);
            return WebhookResponse.Parked;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogParkFailed(logger, ex, category);
            return current.ParkFailed;
        }
    }

    private static string? BestEffortReturnId(in WebhookEnvelope envelope, ReadOnlySpan<byte> body) =>
        envelope.ReturnIdToken.TryGetIdentifier(body, 128) ?? envelope.IdToken.TryGetIdentifier(body, 128);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Webhooks:Secret is not configured; answering 503 so Loop retries")]
    private static partial void LogNotConfigured(ILogger logger);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Webhook rejected with {StatusCode}: {Reason}")]
    private static partial void LogRejected(ILogger logger, int statusCode, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Webhook {Trigger} for return {ReturnId} accepted as message {MessageId}")]
    private static partial void LogQueued(ILogger logger, string? trigger, string? returnId, string messageId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Signed webhook parked as exception {ExceptionId} ({Category}, owner {Owner}, attempt {Attempts})")]
    private static partial void LogParked(ILogger logger, string exceptionId, ExceptionCategory category, string owner, int attempts);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Signed webhook could not be parked ({Category}); answering 503 so Loop retries")]
    private static partial void LogParkFailed(ILogger logger, Exception exception, ExceptionCategory category);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Enqueueing webhook message {MessageId} failed; answering 503 so Loop retries")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception, string messageId);

    /// <summary>Keys and canned answers derived from one options snapshot (rebuilt when options change).</summary>
    internal sealed class Settings
    {
        public Settings(WebhookOptions options)
        {
            PrimaryKey = string.IsNullOrEmpty(options.Secret) ? [] : Encoding.UTF8.GetBytes(options.Secret);
            SecondaryKey = string.IsNullOrEmpty(options.SecondarySecret) ? null : Encoding.UTF8.GetBytes(options.SecondarySecret);
            if (PrimaryKey.Length == 0 && SecondaryKey is not null)
            {
                (PrimaryKey, SecondaryKey) = (SecondaryKey, null);
            }

            MaxBodyBytes = options.MaxBodyBytes > 0 ? options.MaxBodyBytes : new WebhookOptions().MaxBodyBytes;
            var retryAfter = TimeSpan.FromSeconds(Math.Clamp(options.RetryAfterSeconds, 1, 1800));
            EnqueueFailed = WebhookResponse.Unavailable("enqueue_failed", retryAfter);
            ParkFailed = WebhookResponse.Unavailable("storage_unavailable", retryAfter);
            NotConfigured = WebhookResponse.Unavailable("not_configured", retryAfter);
        }

        public byte[] PrimaryKey { get; }

        public byte[]? SecondaryKey { get; }

        public bool IsConfigured => PrimaryKey.Length > 0;

        public int MaxBodyBytes { get; }

        public WebhookResponse EnqueueFailed { get; }

        public WebhookResponse ParkFailed { get; }

        public WebhookResponse NotConfigured { get; }
    }
}
