using System.Collections;
using System.Globalization;
using System.Text.Json;
using LoopFulfil.Core.Messaging;

namespace LoopFulfil.Functions.Messaging;

/// <summary>
/// Builds Core's <see cref="InboundMessage"/> from a Service Bus trigger's body and its
/// <c>FunctionContext.BindingContext.BindingData</c>, so the triggers bind the body only (no SDK message types).
/// </summary>
/// <remarks>
/// Keys read (the Service Bus extension's trigger metadata): <c>MessageId</c>, <c>SessionId</c>,
/// <c>DeliveryCount</c> and <c>ApplicationProperties</c> (older extensions: <c>UserProperties</c>). The worker hands
/// values over as it received them from the host: numbers may arrive as numbers, strings or JSON elements, and the
/// application properties as a JSON object string or as a dictionary. Every shape is accepted; property values
/// become invariant-culture strings, as Core's contract has them.
/// </remarks>
public static class ServiceBusBindingData
{
    public const string MessageIdKey = "MessageId";
    public const string SessionIdKey = "SessionId";
    public const string DeliveryCountKey = "DeliveryCount";
    public const string ApplicationPropertiesKey = "ApplicationProperties";
    public const string LegacyUserPropertiesKey = "UserProperties";

    /// <summary>The message as Core's handlers take it. Throws when the binding data carries no MessageId.</summary>
    public static InboundMessage ToInboundMessage(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, object?> bindingData)
    {
        ArgumentNullException.ThrowIfNull(bindingData);

        // Service Bus always assigns one; its absence means the binding data changed shape, which must be loud.
        var messageId = Text(bindingData, MessageIdKey)
            ?? throw new InvalidOperationException($"The Service Bus trigger's binding data has no {MessageIdKey}; cannot identify the message.");
        var sessionId = Text(bindingData, SessionIdKey);
        var deliveryCount = Number(bindingData, DeliveryCountKey) ?? 1;
        var properties = bindingData.TryGetValue(ApplicationPropertiesKey, out var p) && p is not null
            ? p
            : bindingData.GetValueOrDefault(LegacyUserPropertiesKey);
        return new InboundMessage(body, messageId, sessionId, deliveryCount, Properties(properties));
    }

    internal static IReadOnlyDictionary<string, string> Properties(object? value)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (value)
        {
            case null:
                break;
            case string json when !string.IsNullOrWhiteSpace(json):
                using (var document = JsonDocument.Parse(json))
                {
                    AddJsonObject(document.RootElement, result);
                }

                break;
            case JsonElement { ValueKind: JsonValueKind.String } element:
                using (var document = JsonDocument.Parse(element.GetString()!))
                {
                    AddJsonObject(document.RootElement, result);
                }

                break;
            case JsonElement element:
                AddJsonObject(element, result);
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach ((var key, var v) in pairs)
                {
                    Add(result, key, v);
                }

                break;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    Add(result, Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!, entry.Value);
                }

                break;
            default:
                throw new InvalidOperationException($"Unexpected {ApplicationPropertiesKey} binding data of type {value.GetType()}.");
        }

        return result;
    }

    private static void AddJsonObject(JsonElement element, Dictionary<string, string> result)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            Add(result, property.Name, property.Value);
        }
    }

    private static void Add(Dictionary<string, string> result, string key, object? value)
    {
        var text = value switch
        {
            null => null,
            string s => s,
            JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement e => e.GetRawText(),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        if (text is not null)
        {
            result[key] = text;
        }
    }

    private static string? Text(IReadOnlyDictionary<string, object?> data, string key) =>
        data.TryGetValue(key, out var value) ? value switch
        {
            string s when s.Length > 0 => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() is { Length: > 0 } s ? s : null,
            _ => null,
        } : null;

    private static int? Number(IReadOnlyDictionary<string, object?> data, string key) =>
        data.TryGetValue(key, out var value) ? value switch
        {
            int i => i,
            long l => checked((int)l),
            string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt32(out var n) => n,
            JsonElement { ValueKind: JsonValueKind.String } e when int.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        } : null;
}
