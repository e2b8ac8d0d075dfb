using System.Collections.Concurrent;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.LocalHost;

/// <summary>What <see cref="LocalMessageSender.SendWithOutcomeAsync"/> did with a message.</summary>
public enum LocalSendOutcome
{
    Enqueued,

    /// <summary>The MessageId was already sent to that queue within the duplicate detection window.</summary>
    DroppedDuplicate,
}

/// <summary>
/// The single-machine <see cref="IMessageSender"/>: wraps each message in a <see cref="LocalQueueEnvelope"/> on an
/// Azure Queue Storage queue, with Service Bus style duplicate detection by MessageId.
/// </summary>
/// <remarks>
/// Duplicate detection claims <c>(queue, MessageId)</c> in the <see cref="DedupeTable"/> table by insert-if-absent
/// before sending, then marks the claim sent. Repeats of a message marked sent within the window are dropped. A claim
/// whose send failed is removed so the caller's retry goes through. A repeat that finds the claim still pending is
/// refused with a <see cref="TransientIntegrationException"/>, never dropped: the first sender may have died between
/// claim and send (a killed host), and a repeat answered as a duplicate would be acknowledged and lost (Loop stops
/// retrying a webhook answered 202). A pending claim older than <see cref="LocalHostOptions.PendingClaimTimeoutSeconds"/>
/// is taken over, so a crash between claim and send delays a message, never loses it.
/// </remarks>
public sealed partial class LocalMessageSender : IMessageSender
{
    /// <summary>Table holding one row per (queue, MessageId) sent within the window.</summary>
    public const string DedupeTable = "dedupe";

    /// <summary>Default of <see cref="LocalHostOptions.PendingClaimTimeoutSeconds"/>: how long a claim may stay pending before another send may take it over.</summary>
    public static readonly TimeSpan PendingClaimTimeout = TimeSpan.FromSeconds(LocalHostOptions.DefaultPendingClaimTimeoutSeconds);

    /// <summary>The longest a scheduled message is hidden (Queue Storage allows 7 days).</summary>
    public static readonly TimeSpan MaxScheduleDelay = TimeSpan.FromDays(6);

    private const string StateProperty = "State";
    private const string SentAtProperty = "SentAt";
    private const string Pending = "Pending";
    private const string Sent = "Sent";

    private readonly IQueueStore _queues;
    private readonly ITableStore _tables;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalMessageSender> _logger;
    private readonly ClaimCheck _claims;
    private readonly TimeSpan _window;
    private readonly TimeSpan _pendingTimeout;
    private readonly ConcurrentDictionary<string, Lazy<Task>> _created = new(StringComparer.Ordinal);

    public LocalMessageSender(IQueueStore queues, ITableStore tables, ClaimCheck claims, IOptions<LocalHostOptions> options, TimeProvider time, ILogger<LocalMessageSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _queues = queues;
        _tables = tables;
        _time = time;
        _logger = logger;
        _claims = claims;
        _window = TimeSpan.FromHours(options.Value.DuplicateDetectionWindowHours);
        _pendingTimeout = TimeSpan.FromSeconds(options.Value.PendingClaimTimeoutSeconds);
    }

    /// <inheritdoc />
    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) => SendWithOutcomeAsync(message, cancellationToken);

    /// <summary>Sends, reporting whether duplicate detection dropped the message.</summary>
    /// <remarks>A body that makes the envelope larger than <see cref="LocalQueueEnvelope.MaxEncodedBytes"/> is claim-checked (<see cref="ClaimCheck"/>).</remarks>
    /// <exception cref="PermanentIntegrationException">The envelope is too large even without its body (huge properties).</exception>
    /// <exception cref="TransientIntegrationException">Another send of this MessageId is pending (or died pending): try again later.</exception>
    public async Task<LocalSendOutcome> SendWithOutcomeAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(message.MessageId);

        var encoded = new LocalQueueEnvelope(message.MessageId, message.SessionId, message.Properties, message.Body, _time.GetUtcNow()).Encode();
        string? claimId = null;
        if (encoded.Length > LocalQueueEnvelope.MaxEncodedBytes)
        {
            // Claim-check: the body goes to Blob storage (after the duplicate check) and the envelope points at it.
            claimId = Guid.NewGuid().ToString("N");
            var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal)
            {
                [ClaimCheck.ReferenceProperty] = ClaimCheck.Reference(claimId, message.Body.Span),
            };
            encoded = new LocalQueueEnvelope(message.MessageId, message.SessionId, properties, ReadOnlyMemory<byte>.Empty, _time.GetUtcNow()).Encode();
            if (encoded.Length > LocalQueueEnvelope.MaxEncodedBytes)
            {
                throw new PermanentIntegrationException(
                    $"Message {message.MessageId} for queue {message.Queue} has {encoded.Length} bytes of envelope without its body; the limit is {LocalQueueEnvelope.MaxEncodedBytes}.");
            }
        }

        await EnsureCreatedAsync(message.Queue, () => _queues.CreateQueueIfNotExistsAsync(message.Queue, CancellationToken.None)).ConfigureAwait(false);

        if (_window <= TimeSpan.Zero)
        {
            await StoreClaimAsync(claimId, message.Body, cancellationToken).ConfigureAwait(false);
            await _queues.SendAsync(message.Queue, encoded, VisibilityDelay(message), cancellationToken).ConfigureAwait(false);
            return LocalSendOutcome.Enqueued;
        }

        await EnsureCreatedAsync("table:" + DedupeTable, () => _tables.CreateTableIfNotExistsAsync(DedupeTable, CancellationToken.None)).ConfigureAwait(false);

        var (claimed, pendingFor) = await TryClaimAsync(message.Queue, message.MessageId, cancellationToken).ConfigureAwait(false);
        if (pendingFor is { } wait)
        {
            LogPendingRefused(message.Queue, message.MessageId);
            throw new TransientIntegrationException(
                $"Message {message.MessageId} for queue {message.Queue} is being sent by another sender (or one that stopped before it was sent); try again later.", null, wait);
        }

        if (!claimed)
        {
            LogDuplicateDropped(message.Queue, message.MessageId);
            return LocalSendOutcome.DroppedDuplicate;
        }

        try
        {
            await StoreClaimAsync(claimId, message.Body, cancellationToken).ConfigureAwait(false);
            await _queues.SendAsync(message.Queue, encoded, VisibilityDelay(message), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The message did not go out: free the claim so the caller's retry is not mistaken for a duplicate.
            try
            {
                await _tables.DeleteAsync(DedupeTable, message.Queue, message.MessageId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception releaseError)
            {
                LogClaimReleaseFailed(releaseError, message.Queue, message.MessageId);
            }

            throw;
        }

        try
        {
            var sent = new TableEntity(message.Queue, message.MessageId)
            {
                [StateProperty] = Sent,
                [SentAtProperty] = _time.GetUtcNow(),
            };
            await _tables.UpsertAsync(DedupeTable, sent, UpsertMode.Merge, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception markError)
        {
            // The message is on the queue; failing the caller now would make it send again. The pending claim
            // still drops repeats for PendingClaimTimeout.
            LogMarkSentFailed(markError, message.Queue, message.MessageId);
        }

        return LocalSendOutcome.Enqueued;
    }

    /// <summary>Deletes duplicate detection rows older than the window. Run it periodically (the host schedules it hourly).</summary>
    /// <returns>How many rows were deleted.</returns>
    public async Task<int> PruneDuplicateDetectionAsync(CancellationToken cancellationToken)
    {
        await _tables.CreateTableIfNotExistsAsync(DedupeTable, cancellationToken).ConfigureAwait(false);
        var cutoff = _time.GetUtcNow() - (_window > _pendingTimeout ? _window : _pendingTimeout);
        var filter = TableFilter.LessThan(SentAtProperty, cutoff);
        var deleted = 0;
        var expired = new List<(string Partition, string Row)>();
        await foreach (var entity in _tables.QueryAsync(DedupeTable, filter, cancellationToken).ConfigureAwait(false))
        {
            expired.Add((entity.PartitionKey, entity.RowKey));
        }

        foreach (var (partition, row) in expired)
        {
            if (await _tables.DeleteAsync(DedupeTable, partition, row, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>
    /// A scheduled message stays hidden until its time (Queue Storage counts whole seconds, so rounded up; at most
    /// <see cref="MaxScheduleDelay"/>, below the store's 7-day limit and the message's time-to-live).
    /// </summary>
    private TimeSpan? VisibilityDelay(OutboundMessage message)
    {
        if (message.ScheduledEnqueueTime is not { } at)
        {
            return null;
        }

        var delay = at - _time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return null;
        }

        var seconds = TimeSpan.FromSeconds(Math.Ceiling(delay.TotalSeconds));
        return seconds < MaxScheduleDelay ? seconds : MaxScheduleDelay;
    }

    private async Task StoreClaimAsync(string? claimId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (claimId is not null)
        {
            await _claims.StoreAsync(claimId, body, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>Claimed; or not, with how long a live pending claim has left (null: the message was sent, a duplicate).</returns>
    private async Task<(bool Claimed, TimeSpan? PendingFor)> TryClaimAsync(string queue, string messageId, CancellationToken cancellationToken)
    {
        // Each pass either claims, sees a live claim, or loses a race and looks again; three passes settle any
        // interleaving of two senders.
        TimeSpan? pendingFor = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = _time.GetUtcNow();
            var claim = new TableEntity(queue, messageId)
            {
                [StateProperty] = Pending,
                [SentAtProperty] = now,
            };
            if (await _tables.InsertAsync(DedupeTable, claim, cancellationToken).ConfigureAwait(false) == InsertOutcome.Inserted)
            {
                return (true, null);
            }

            var existing = await _tables.GetAsync(DedupeTable, queue, messageId, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                continue;
            }

            var at = existing.GetDateTimeOffset(SentAtProperty) ?? DateTimeOffset.MinValue;
            var sent = existing.GetString(StateProperty) == Sent;
            var live = sent ? _window : _pendingTimeout;
            if (now - at < live)
            {
                return (false, sent ? null : live - (now - at));
            }

            // Expired (or abandoned) claim: take it over only if nobody else did since we read it.
            var takeOver = new TableEntity(queue, messageId)
            {
                ETag = existing.ETag,
                [StateProperty] = Pending,
                [SentAtProperty] = now,
            };
            if (await _tables.UpdateAsync(DedupeTable, takeOver, UpsertMode.Replace, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
            {
                return (true, null);
            }

            // Another sender took it over first: its claim is pending now.
            pendingFor = _pendingTimeout;
        }

        // Still racing after three passes: someone else's claim is pending.
        return (false, pendingFor ?? _pendingTimeout);
    }

    private async Task EnsureCreatedAsync(string key, Func<Task> create)
    {
        var lazy = _created.GetOrAdd(key, _ => new Lazy<Task>(create));
        try
        {
            await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            // Do not cache a failure: the next send tries again.
            _created.TryRemove(new KeyValuePair<string, Lazy<Task>>(key, lazy));
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped duplicate message {MessageId} for queue {Queue} (already sent within the detection window)")]
    private partial void LogDuplicateDropped(string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} for queue {Queue} has a pending send (another sender, or one that stopped before sending); refused as transient so the caller tries again")]
    private partial void LogPendingRefused(string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the duplicate detection claim of message {MessageId} for queue {Queue} after a failed send")]
    private partial void LogClaimReleaseFailed(Exception exception, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} was sent to queue {Queue} but its duplicate detection row could not be marked sent")]
    private partial void LogMarkSentFailed(Exception exception, string queue, string messageId);
}
