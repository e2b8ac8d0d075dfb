using System.Text;
using System.Text.Json;

namespace LoopFulfil.LocalHost;

/// <summary>
/// What the single-machine host puts in an Azure Queue Storage message: the Service Bus message fields a queue
/// message lacks (MessageId, SessionId, application properties) around the payload. The payload travels as a JSON
/// string when it is valid UTF-8 (readable in a storage explorer, byte-exact on the way back), otherwise as base64.
/// </summary>
/// <param name="MessageId">The application message id (Service Bus MessageId), not the queue store's id.</param>
/// <param name="SessionId">The session that orders this message, or null.</param>
/// <param name="Properties">Application properties.</param>
/// <param name="Body">The payload bytes.</param>
/// <param name="EnqueuedAt">When the sender enqueued it.</param>
public sealed record LocalQueueEnvelope(
    string MessageId,
    string? SessionId,
    IReadOnlyDictionary<string, string> Properties,
    ReadOnlyMemory<byte> Body,
    DateTimeOffset EnqueuedAt)
{
    /// <summary>
    /// The largest encoded envelope: Azure Queue Storage takes 64 KiB of message text, and a base64-encoded message
    /// of 48 KiB fills it.
    /// </summary>
    public const int MaxEncodedBytes = 48 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Serialises the envelope to UTF-8 JSON.</summary>
    public byte[] Encode()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", 1);
            writer.WriteString("messageId", MessageId);
            if (SessionId is null)
            {
                writer.WriteNull("sessionId");
            }
            else
            {
                writer.WriteString("sessionId", SessionId);
            }

            writer.WriteString("enqueuedAt", EnqueuedAt);
            writer.WriteStartObject("properties");
            foreach (var (key, value) in Properties)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            if (TryDecodeUtf8(Body.Span, out var text))
            {
                writer.WriteString("body", text);
            }
            else
            {
                writer.WriteBase64String("bodyBase64", Body.Span);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads an envelope; false (with a reason) when the bytes are not one.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> encoded, out LocalQueueEnvelope? envelope, out string? error)
    {
        envelope = null;
        try
        {
            using var document = JsonDocument.Parse(encoded);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The message is not a JSON object.";
                return false;
            }

            if (!root.TryGetProperty("messageId", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
            {
                error = "The envelope has no messageId.";
                return false;
            }

            string? sessionId = null;
            if (root.TryGetProperty("sessionId", out var session) && session.ValueKind == JsonValueKind.String)
            {
                sessionId = session.GetString();
            }

            var enqueuedAt = root.TryGetProperty("enqueuedAt", out var at) && at.ValueKind == JsonValueKind.String && at.TryGetDateTimeOffset(out var parsedAt)
                ? parsedAt
                : DateTimeOffset.MinValue;

            var properties = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in props.EnumerateObject())
                {
                    properties[property.Name] = property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString()!
                        : property.Value.GetRawText();
                }
            }

            byte[] body;
            if (root.TryGetProperty("body", out var text) && text.ValueKind == JsonValueKind.String)
            {
                body = StrictUtf8.GetBytes(text.GetString()!);
            }
            else if (root.TryGetProperty("bodyBase64", out var b64) && b64.ValueKind == JsonValueKind.String)
            {
                body = b64.GetBytesFromBase64();
            }
            else
            {
                error = "The envelope has no body.";
                return false;
            }

            envelope = new LocalQueueEnvelope(id.GetString()!, sessionId, properties, body, enqueuedAt);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            error = $"The message is not a valid envelope: {ex.GetType().Name}.";
            return false;
        }
    }

    private static bool TryDecodeUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }
}
