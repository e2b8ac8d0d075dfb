using System.Globalization;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// <see cref="IQueueStore"/> over the Queue service REST API (XML) on Azure.Core's pipeline, sharing
/// <see cref="StorageAccount"/>'s authentication with the table store. Message text is base64 of the body bytes,
/// which is also what the Functions queue trigger and Azure.Storage.Queues' base64 mode expect.
/// </summary>
public sealed partial class AzureQueueStore : IQueueStore
{
    /// <summary>The service's limit on message text (base64 makes that 48 KiB of body).</summary>
    public const int MaxMessageTextBytes = 64 * 1024;

    private static readonly TimeSpan MaxVisibility = TimeSpan.FromDays(7);

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    public AzureQueueStore(StorageAccount account, StorageClientOptions? clientOptions = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _endpoint = account.RequireEndpoint(StorageService.Queue);
        _pipeline = account.CreatePipeline(StorageService.Queue, clientOptions, timeProvider ?? TimeProvider.System);
    }

    public async Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Put, QueueName(queue));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status is 201 or 204)
        {
            return;
        }

        var error = StorageError.Read(response);
        if (response.Status == 409 && error.Code == "QueueAlreadyExists")
        {
            return; // exists with other metadata: still the queue we want
        }

        throw StorageError.ToException(response, error, "Queue storage", $"create queue '{queue}'");
    }

    public async Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken)
    {
        var name = QueueName(queue);
        var text = Convert.ToBase64String(body.Span);
        if (text.Length > MaxMessageTextBytes)
        {
            throw new PermanentStorageException(
                $"A message of {body.Length} bytes is too large for queue '{name}': base64 makes it {text.Length} bytes, the limit is {MaxMessageTextBytes}.",
                null, "RequestBodyTooLarge");
        }

        using var message = CreateMessage(RequestMethod.Post, name + "/messages");
        if (initialVisibilityDelay is { } delay && delay > TimeSpan.Zero)
        {
            message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(delay, nameof(initialVisibilityDelay), allowZero: false));
        }

        // -1: never expires. The default (7 days) would silently drop work that waited out a long outage.
        message.Request.Uri.AppendQuery("messagettl", "-1");
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(
            $"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>{SecurityElement.Escape(text)}</MessageText></QueueMessage>"));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status != 201)
        {
            throw StorageError.ToException(response, StorageError.Read(response), "Queue storage", $"send to '{name}'");
        }
    }

    public async Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var name = QueueName(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, 32);
        using var message = CreateMessage(RequestMethod.Get, name + "/messages");
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture));
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout, nameof(visibilityTimeout), allowZero: false));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status != 200)
        {
            throw StorageError.ToException(response, StorageError.Read(response), "Queue storage", $"receive from '{name}'");
        }

        XDocument doc;
        using (var stream = response.Content.ToStream())
        {
            doc = XDocument.Load(stream);
        }

        var result = new List<QueueStoreMessage>();
        foreach (var element in doc.Root?.Elements("QueueMessage") ?? [])
        {
            result.Add(new QueueStoreMessage(
                Required(element, "MessageId"),
                Required(element, "PopReceipt"),
                int.Parse(Required(element, "DequeueCount"), CultureInfo.InvariantCulture),
                DecodeText(element.Element("MessageText")?.Value ?? "")));
        }

        return result;
    }

    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        var name = QueueName(queue);
        using var message = CreateMessage(RequestMethod.Delete, MessagePath(name, messageId));
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 204)
        {
            return true;
        }

        var error = StorageError.Read(response);
        if (IsStaleReceipt(response, error))
        {
            return false;
        }

        throw StorageError.ToException(response, error, "Queue storage", $"delete message {messageId} from '{name}'");
    }

    /// <exception cref="QueueMessageLockLostException">The pop receipt is stale: the message reappeared and was taken (or deleted) by someone else.</exception>
    public async Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var name = QueueName(queue);
        using var message = CreateMessage(RequestMethod.Put, MessagePath(name, messageId));
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout, nameof(visibilityTimeout), allowZero: true));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 204 && response.Headers.TryGetValue("x-ms-popreceipt", out var receipt) && !string.IsNullOrEmpty(receipt))
        {
            return receipt;
        }

        var error = StorageError.Read(response);
        if (IsStaleReceipt(response, error))
        {
            throw new QueueMessageLockLostException(
                $"Message {messageId} in '{name}' is no longer held by this receipt ({response.Status} {error.Code}).", response.Status, error.Code);
        }

        throw StorageError.ToException(response, error, "Queue storage", $"update visibility of message {messageId} in '{name}'");
    }

    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        var name = QueueName(queue);
        using var message = CreateMessage(RequestMethod.Get, name);
        message.Request.Uri.AppendQuery("comp", "metadata");
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 200 && response.Headers.TryGetValue("x-ms-approximate-messages-count", out var count))
        {
            return int.Parse(count, CultureInfo.InvariantCulture);
        }

        throw StorageError.ToException(response, StorageError.Read(response), "Queue storage", $"count messages in '{name}'");
    }

    private static bool IsStaleReceipt(Response response, StorageError error) =>
        (response.Status == 404 && error.Code != "QueueNotFound") || (response.Status == 400 && error.Code == "PopReceiptMismatch");

    /// <summary>Bodies we sent are base64; text put there by other tools (portal, CLI) may not be, so it is taken as UTF-8.</summary>
    private static ReadOnlyMemory<byte> DecodeText(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer.AsMemory(0, written) : Encoding.UTF8.GetBytes(text);
    }

    private static string Required(XElement message, string name) =>
        message.Element(name)?.Value ?? throw new FormatException($"A received queue message has no {name}.");

    private static string Seconds(TimeSpan value, string parameter, bool allowZero)
    {
        if (value < TimeSpan.Zero || value > MaxVisibility || (!allowZero && value == TimeSpan.Zero))
        {
            throw new ArgumentOutOfRangeException(parameter, value, $"Must be {(allowZero ? "0" : "1 s")} to 7 days.");
        }

        // Whole seconds only; round up so a short timeout never becomes zero.
        return ((long)Math.Ceiling(value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

    private static string MessagePath(string queue, string messageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return queue + "/messages/" + Uri.EscapeDataString(messageId);
    }

    private static string QueueName(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        if (!QueueNameRegex().IsMatch(queue) || queue.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{queue}' is not a valid queue name (3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit).", nameof(queue));
        }

        return queue;
    }

    private HttpMessage CreateMessage(RequestMethod method, string escapedRelativePath)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(_endpoint);
        message.Request.Uri.AppendPath(escapedRelativePath, escape: false);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken);
            return message.Response;
        }
        catch (Exception ex) when (StorageError.IsTransport(ex, cancellationToken))
        {
            throw new TransientStorageException($"Queue storage at {_endpoint.Host}:{_endpoint.Port} did not answer after retries: {ex.Message}", null, null, ex);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex QueueNameRegex();
}
