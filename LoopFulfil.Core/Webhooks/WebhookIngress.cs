using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using Microsoft.AspNetCore.Http;
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
    /// <summary>
    /// How far an oversize body is read to check its signature (never kept): a forged delivery must not leave an
    /// exception record, and an authentic one must. Below Kestrel's own 30 MB request limit; longer bodies get 413 unread.
    /// </summary>
    internal const int MaxOversizeVerifiedBytes = 16 * 1024 * 1024;

    private readonly ExceptionService _exceptions;
    private readonly ILogger<WebhookIngress> _logger;
    private readonly LoopFulfilMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly IDisposable? _optionsSubscription;
    private volatile Settings _settings;

    public WebhookIngress(IOptionsMonitor<WebhookOptions> options, ExceptionService exceptions, ILogger<WebhookIngress> logger, LoopFulfilMetrics? metrics = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _exceptions = exceptions;
        _logger = logger;
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
        _time = time ?? TimeProvider.System;
        _settings = new Settings(options.CurrentValue);
        _optionsSubscription = options.OnChange(o => _settings = new Settings(o));
    }

    /// <summary>
    /// Handles one delivery. Returns the response to send when <see cref="WebhookIngressResult.Message"/> (if any)
    /// has been enqueued. 401 for a missing/invalid signature, 413 for an oversize body (a signed one leaves an
    /// <see cref="ExceptionCategory.EventTooLarge"/> record), 400/408 when the client broke the request body, 202 for a
    /// routed or parked event — whatever its bytes — and 503 + Retry-After when a signed event could not be parked
    /// (storage down) so Loop retries.
    /// </summary>
    public async ValueTask<WebhookIngressResult> HandleAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        var current = _settings;
        if (!current.IsConfigured)
        {
            // Answering 401 would make Loop give up on every event; 503 keeps them coming back until fixed.
            LogNotConfigured(_logger);
            return Rejected("not_configured", current.NotConfigured);
        }

        if (string.IsNullOrWhiteSpace(request.Signature))
        {
            LogRejected(_logger, 401, "missing_signature");
            return Rejected("missing_signature", WebhookResponse.MissingSignature);
        }

        if (request.ContentLength > current.MaxBodyBytes)
        {
            LogRejected(_logger, 413, "declared_length");
            return await RefuseOversizeAsync(request, ReadOnlyMemory<byte>.Empty, "declared_length", current, cancellationToken).ConfigureAwait(false);
        }

        byte[] buffer;
        int length;
        bool oversize;
        try
        {
            (buffer, length, oversize) = await WebhookBodyReader.ReadAsync(request.Body, request.ContentLength, current.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The client broke the request (bad chunking, too slow, connection reset): nothing signed arrived.
            return Unreadable(ex);
        }

        if (oversize)
        {
            LogRejected(_logger, 413, "body_length");
            return await RefuseOversizeAsync(request, buffer.AsMemory(0, length), "body_length", current, cancellationToken).ConfigureAwait(false);
        }

        ReadOnlyMemory<byte> body = buffer.AsMemory(0, length);
        if (!SignatureIsValid(body.Span, request.Signature, current))
        {
            LogRejected(_logger, 401, "invalid_signature");
            return Rejected("invalid_signature", WebhookResponse.InvalidSignature);
        }

        var envelope = WebhookEnvelope.Parse(body.Span);
        if (envelope.IsRoutable)
        {
            var message = BuildMessage(envelope, body);
            LogQueued(_logger, envelope.Trigger, envelope.ReturnId, message.MessageId);
            _metrics.WebhookReceived("queued");
            return new(WebhookResponse.Queued, message);
        }

        var parked = await ParkAsync(envelope, body, current, cancellationToken).ConfigureAwait(false);
        _metrics.WebhookReceived(ReferenceEquals(parked, WebhookResponse.Parked) ? "parked" : "unavailable");
        return new(parked, null);
    }

    private WebhookIngressResult Rejected(string reason, WebhookResponse response)
    {
        _metrics.WebhookReceived("rejected");
        _metrics.WebhookRejected(reason);
        return new(response, null);
    }

    /// <summary>
    /// For hosts that send directly (the single-machine host): handles the delivery and sends the message; when the
    /// send fails the answer becomes 503 + Retry-After so Loop delivers again.
    /// </summary>
    public async ValueTask<WebhookResponse> HandleAndSendAsync(WebhookRequest request, IMessageSender sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var result = await HandleAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Message is null)
        {
            return result.Response;
        }

        try
        {
            using var deadline = StorageDeadline(cancellationToken);
            await sender.SendAsync(result.Message, deadline.Token).ConfigureAwait(false);
            return result.Response;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogEnqueueFailed(_logger, ex, result.Message.MessageId);
            return EnqueueFailed();
        }
    }

    /// <summary>
    /// The caller's token, cancelled as well once <see cref="WebhookOptions.StorageTimeoutSeconds"/> have passed: a
    /// storage call that does not answer ends in 503 + Retry-After instead of holding Loop's request.
    /// </summary>
    private Deadline StorageDeadline(CancellationToken cancellationToken) => new(_settings.StorageTimeout, _time, cancellationToken);

    /// <summary>The answer when the host could not enqueue the message: 503 with Retry-After, so Loop retries.</summary>
    public WebhookResponse EnqueueFailed() => _settings.EnqueueFailed;

    /// <summary>Builds the <c>loop-returns</c> message for a stored raw event (used by replay), or null when it does not route.</summary>
    internal static OutboundMessage? TryBuildMessage(ReadOnlyMemory<byte> body, string? messageIdSuffix, string? replayOf)
    {
        var envelope = WebhookEnvelope.Parse(body.Span);
        return envelope.IsRoutable ? BuildMessage(envelope, body, messageIdSuffix, replayOf) : null;
    }

    /// <summary>Why a stored raw event does not route, for operators; null when it does.</summary>
    internal static string? DescribeRoutingProblem(ReadOnlySpan<byte> body)
    {
        var envelope = WebhookEnvelope.Parse(body);
        return envelope.IsRoutable ? null : envelope.Describe();
    }

    public void Dispose() => _optionsSubscription?.Dispose();

    /// <summary>The 32 bytes a signature header carries, or null when it is not one.</summary>
    private static byte[]? DecodeSignature(string? header)
    {
        Span<byte> presented = stackalloc byte[48];
        return header is not null && Convert.TryFromBase64String(header, presented, out var written) && written == HMACSHA256.HashSizeInBytes
            ? presented[..written].ToArray()
            : null;
    }

    internal static bool SignatureIsValid(ReadOnlySpan<byte> body, string? header, Settings settings)
    {
        if (header is null)
        {
            return false;
        }

        // 32 bytes are 44 base64 characters; anything that does not decode to exactly 32 bytes is not a signature.
        Span<byte> presented = stackalloc byte[48];
        if (!Convert.TryFromBase64String(header, presented, out var written) || written != HMACSHA256.HashSizeInBytes)
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
    /// A body over the limit: always 413. When its signature header is well-formed, the rest of the body is read
    /// (never kept: hashed, up to <see cref="MaxOversizeVerifiedBytes"/>) so that an authentic delivery leaves an
    /// <see cref="ExceptionCategory.EventTooLarge"/> record ops can see — size, topic, trigger and return id from
    /// its first bytes, owner — while a forged one leaves nothing. 503 when that record could not be written, so
    /// Loop comes back and the record is not lost.
    /// </summary>
    private async Task<WebhookIngressResult> RefuseOversizeAsync(WebhookRequest request, ReadOnlyMemory<byte> alreadyRead, string reason, Settings current, CancellationToken cancellationToken)
    {
        if (DecodeSignature(request.Signature) is not { } signature)
        {
            return Rejected(reason, WebhookResponse.TooLarge);
        }

        if (request.ContentLength > MaxOversizeVerifiedBytes)
        {
            LogOversizeUnverified(_logger, MaxOversizeVerifiedBytes);
            return Rejected(reason, WebhookResponse.TooLarge);
        }

        OversizeBody? body;
        try
        {
            body = await OversizeBody.ReadAsync(request.Body, alreadyRead, current, MaxOversizeVerifiedBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogBodyUnreadable(_logger, ex);
            return Rejected(reason, WebhookResponse.TooLarge);
        }

        if (body is null)
        {
            LogOversizeUnverified(_logger, MaxOversizeVerifiedBytes);
            return Rejected(reason, WebhookResponse.TooLarge);
        }

        if (!body.SignatureMatches(signature))
        {
            LogRejected(_logger, 401, "invalid_signature");
            return Rejected("invalid_signature", WebhookResponse.InvalidSignature);
        }

        (var topic, var trigger, var returnId) = WebhookEnvelope.PeekPrefix(body.Prefix);
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"Signed webhook '{trigger ?? "unreadable"}' (topic '{topic ?? "unreadable"}') of {body.Length:N0} bytes is larger than the {current.MaxBodyBytes:N0} bytes the integration can store; refused with 413 and not kept. Loop retries, then gives up: bring return {returnId ?? "(id unreadable)"} across by hand.");
        var raise = new ExceptionRaise(ExceptionCategory.EventTooLarge, returnId, text)
        {
            // One record per distinct body: Loop's retries of it bump attempts.
            DetailKey = body.Sha256Hex,
            Source = trigger is null ? "webhook" : $"webhook:{trigger}",
        };

        try
        {
            using var deadline = StorageDeadline(cancellationToken);
            var record = await _exceptions.RaiseAsync(raise, deadline.Token).ConfigureAwait(false);
            LogParked(_logger, record.Id, record.Category, record.Owner, record.Attempts);
            return Rejected(reason, WebhookResponse.TooLarge);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogParkFailed(_logger, ex, ExceptionCategory.EventTooLarge);
            return Rejected("storage_unavailable", current.ParkFailed);
        }
    }

    private WebhookIngressResult Unreadable(IOException ex)
    {
        LogBodyUnreadable(_logger, ex);

        // Kestrel says why (408 too slow, 413 over its own limit, 400 bad framing); any other stream failure is a 400.
        return ex is BadHttpRequestException bad && bad.StatusCode is >= 400 and < 500
            ? Rejected("body_unreadable", WebhookResponse.BodyUnreadable(bad.StatusCode))
            : Rejected("body_unreadable", WebhookResponse.BodyUnreadable(400));
    }

    private static OutboundMessage BuildMessage(in WebhookEnvelope envelope, ReadOnlyMemory<byte> body, string? messageIdSuffix = null, string? replayOf = null)
    {
        var dedupeKey = envelope.ComputeMessageId(body.Span);
        var messageId = messageIdSuffix is null ? dedupeKey : string.Concat(dedupeKey, messageIdSuffix);
        var returnId = envelope.ReturnId!;
        var properties = new WebhookMessageProperties(envelope.Topic, envelope.Trigger!, returnId, envelope.State, dedupeKey, envelope.EventTime, replayOf);
        return new OutboundMessage(QueueNames.LoopReturns, body, messageId, returnId, properties);
    }

    private async Task<WebhookResponse> ParkAsync(WebhookEnvelope envelope, ReadOnlyMemory<byte> body, Settings current, CancellationToken cancellationToken)
    {
        var category = envelope.Problem switch
        {
            // A trigger the table parks names its own category (and so its owner).
            EnvelopeProblem.ParkedTrigger => envelope.Route?.ParkedAs ?? ExceptionCategory.UnknownTopic,
            EnvelopeProblem.UnknownTrigger or EnvelopeProblem.MissingTrigger => ExceptionCategory.UnknownTopic,
            _ => ExceptionCategory.UnparseableEvent,
        };
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        var raise = new ExceptionRaise(category, envelope.ReturnId ?? BestEffortReturnId(envelope, body.Span), envelope.Describe())
        {
            // One record per distinct body: the same delivery retried bumps attempts, a different bad event is its own record.
            DetailKey = bodyHash,
            RawEvent = body,
            Source = envelope.Trigger is null ? "webhook" : $"webhook:{envelope.Trigger}",
        };

        try
        {
            using var deadline = StorageDeadline(cancellationToken);
            var record = await _exceptions.RaiseAsync(raise, deadline.Token).ConfigureAwait(false);
            LogParked(_logger, record.Id, category, record.Owner, record.Attempts);
            return WebhookResponse.Parked;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogParkFailed(_logger, ex, category);
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

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Webhook body could not be read (the client broke the request)")]
    private static partial void LogBodyUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Oversize webhook body is longer than {MaxVerifiedBytes} bytes; refused with 413 without checking its signature (no exception record)")]
    private static partial void LogOversizeUnverified(ILogger logger, int maxVerifiedBytes);

    /// <summary>A caller's token that is also cancelled after a delay measured by a <see cref="TimeProvider"/>.</summary>
    private sealed class Deadline : IDisposable
    {
        private readonly CancellationTokenSource _timeout;
        private readonly CancellationTokenSource _linked;

        public Deadline(TimeSpan after, TimeProvider time, CancellationToken caller)
        {
            _timeout = new CancellationTokenSource(after, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(caller, _timeout.Token);
        }

        public CancellationToken Token => _linked.Token;

        public void Dispose()
        {
            _linked.Dispose();
            _timeout.Dispose();
        }
    }

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

            // Never more than storage keeps whole: an accepted body must always be storable.
            MaxBodyBytes = options.MaxBodyBytes > 0 ? Math.Min(options.MaxBodyBytes, StorageLimits.MaxEventBodyBytes) : StorageLimits.MaxEventBodyBytes;
            StorageTimeout = TimeSpan.FromSeconds(Math.Clamp(options.StorageTimeoutSeconds, 1, 60));
            var retryAfter = options.RetryAfter;
            EnqueueFailed = WebhookResponse.Unavailable("enqueue_failed", retryAfter);
            ParkFailed = WebhookResponse.Unavailable("storage_unavailable", retryAfter);
            NotConfigured = WebhookResponse.Unavailable("not_configured", retryAfter);
        }

        public byte[] PrimaryKey { get; }

        public byte[]? SecondaryKey { get; }

        public bool IsConfigured => PrimaryKey.Length > 0;

        public int MaxBodyBytes { get; }

        public TimeSpan StorageTimeout { get; }

        public WebhookResponse EnqueueFailed { get; }

        public WebhookResponse ParkFailed { get; }

        public WebhookResponse NotConfigured { get; }
    }
}
