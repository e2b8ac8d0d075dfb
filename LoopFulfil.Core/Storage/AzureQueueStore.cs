using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Queues;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// <see cref="IQueueStore"/> on Azure.Storage.Queues. Message text is base64 of the body bytes (what the Functions
/// queue trigger and the SDK's base64 mode expect), encoded here so text put on the queue by other tools still reads.
/// </summary>
public sealed partial class AzureQueueStore : IQueueStore
{
    /// <summary>The service's limit on message text (base64 makes that 48 KiB of body).</summary>
    public const int MaxMessageTextBytes = 64 * 1024;

    private const string Service = "Queue storage";

    // The same time-to-live as the Service Bus queues (the default, 7 days, would drop work that waited out a long
    // outage sooner than in Azure), and bounded, so a claim-checked body always outlives the message pointing at it.
    private static readonly TimeSpan MessageTimeToLive = Messaging.MessageLifetimes.TimeToLive;
    private static readonly TimeSpan MaxVisibility = TimeSpan.FromDays(7);

    private readonly QueueServiceClient _service;

    public AzureQueueStore(StorageAccount account, StorageClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _service = account.CreateQueueService(clientOptions);
    }

    public async Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        try
        {
            await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409 && ex.ErrorCode == "QueueAlreadyExists")
        {
            // Exists with other metadata: still the queue we want.
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"create queue '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        var text = Convert.ToBase64String(body.Span);
        if (text.Length > MaxMessageTextBytes)
        {
            throw new PermanentStorageException(
                $"A message of {body.Length} bytes is too large for queue '{queue}': base64 makes it {text.Length} bytes, the limit is {MaxMessageTextBytes}.",
                null, "RequestBodyTooLarge");
        }

        TimeSpan? delay = initialVisibilityDelay is { } d && d > TimeSpan.Zero ? WholeSeconds(d, nameof(initialVisibilityDelay), allowZero: false) : null;
        try
        {
            await client.SendMessageAsync(text, delay, MessageTimeToLive, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"send to '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, 32);
        var visibility = WholeSeconds(visibilityTimeout, nameof(visibilityTimeout), allowZero: false);
        try
        {
            var received = await client.ReceiveMessagesAsync(maxMessages, visibility, cancellationToken).ConfigureAwait(false);
            return received.Value
                .Select(m => new QueueStoreMessage(m.MessageId, m.PopReceipt, checked((int)m.DequeueCount), DecodeText(m.Body.ToString())))
                .ToList();
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"receive from '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        try
        {
            await client.DeleteMessageAsync(messageId, popReceipt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (IsStaleReceipt(ex))
        {
            return false;
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"delete message {messageId} from '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <exception cref="QueueMessageLockLostException">The pop receipt is stale: the message reappeared and was taken (or deleted) by someone else.</exception>
    public async Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var visibility = WholeSeconds(visibilityTimeout, nameof(visibilityTimeout), allowZero: true);
        try
        {
            // No message text: only the visibility changes, the body stays as sent.
            var receipt = await client.UpdateMessageAsync(messageId, popReceipt, (BinaryData?)null, visibility, cancellationToken).ConfigureAwait(false);
            return receipt.Value.PopReceipt;
        }
        catch (RequestFailedException ex) when (IsStaleReceipt(ex))
        {
            throw new QueueMessageLockLostException(
                $"Message {messageId} in '{queue}' is no longer held by this receipt ({ex.Status} {ex.ErrorCode}).", ex.Status, ex.ErrorCode);
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"update visibility of message {messageId} in '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        var client = Client(queue);
        try
        {
            return (await client.GetPropertiesAsync(cancellationToken).ConfigureAwait(false)).Value.ApproximateMessagesCount;
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"count messages in '{queue}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private static bool IsStaleReceipt(RequestFailedException ex) =>
        (ex.Status == 404 && ex.ErrorCode != "QueueNotFound") || (ex.Status == 400 && ex.ErrorCode == "PopReceiptMismatch");

    /// <summary>Bodies we sent are base64; text put there by other tools (portal, CLI) may not be, so it is taken as UTF-8.</summary>
    private static ReadOnlyMemory<byte> DecodeText(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer.AsMemory(0, written) : Encoding.UTF8.GetBytes(text);
    }

    /// <summary>The service takes whole seconds; rounded up so a short timeout never becomes zero.</summary>
    private static TimeSpan WholeSeconds(TimeSpan value, string parameter, bool allowZero)
    {
        if (value < TimeSpan.Zero || value > MaxVisibility || (!allowZero && value == TimeSpan.Zero))
        {
            throw new ArgumentOutOfRangeException(parameter, value, $"Must be {(allowZero ? "0" : "1 s")} to 7 days.");
        }

        return TimeSpan.FromSeconds(Math.Ceiling(value.TotalSeconds));
    }

    private QueueClient Client(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        if (!QueueNameRegex().IsMatch(queue) || queue.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{queue}' is not a valid queue name (3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit).", nameof(queue));
        }

        return _service.GetQueueClient(queue);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex QueueNameRegex();
}
