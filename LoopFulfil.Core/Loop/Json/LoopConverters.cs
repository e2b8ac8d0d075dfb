using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Loop.Json;

/// <summary>
/// Reads a string, a number (kept exactly as written, so 64-bit ids never lose digits) or a boolean into a string.
/// Loop sends the same field as <c>"6042537"</c> in one payload and <c>6042537</c> in the next.
/// </summary>
public sealed class LoopStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadAsString(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value);
    }
}

/// <summary>
/// For Loop global ids we send back (e.g. <c>product.id</c> on an order line): reads like <see cref="LoopStringConverter"/>
/// and writes an all-digit id as a JSON number, which is what Loop's Commerce Data APIs accept without the
/// string-identifier header.
/// </summary>
public sealed class LoopIdConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadAsString(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}

/// <summary>Money and quantities as a JSON number or a decimal string (<c>"120.00"</c>); empty or null reads as 0.</summary>
public sealed class LoopDecimalConverter : JsonConverter<decimal>
{
    public override bool HandleNull => true;

    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadDecimal(ref reader) ?? 0m;

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value);
    }
}

/// <summary>As <see cref="LoopDecimalConverter"/>, but empty or null reads as null.</summary>
public sealed class LoopNullableDecimalConverter : JsonConverter<decimal?>
{
    public override bool HandleNull => true;

    public override decimal? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadDecimal(ref reader);

    public override void Write(Utf8JsonWriter writer, decimal? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>Booleans as <c>true</c>, <c>1</c>, <c>"true"</c>, <c>"1"</c> (and the negatives); empty or null reads as false.</summary>
public sealed class LoopBooleanConverter : JsonConverter<bool>
{
    public override bool HandleNull => true;

    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadBoolean(ref reader) ?? false;

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteBooleanValue(value);
    }
}

/// <summary>As <see cref="LoopBooleanConverter"/>, but empty or null reads as null.</summary>
public sealed class LoopNullableBooleanConverter : JsonConverter<bool?>
{
    public override bool HandleNull => true;

    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadBoolean(ref reader);

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v)
        {
            writer.WriteBooleanValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>
/// Timestamps as Loop writes them: <c>2020-10-29T16:07:31+00:00</c>, <c>2023-01-01T22:27:15.000Z</c>, and
/// <c>2020-10-29 16:07:31</c> with no zone, which Loop means as UTC. Writes RFC 3339 without milliseconds
/// (<c>yyyy-MM-dd'T'HH:mm:sszzz</c>), the form the Commerce Data APIs document.
/// </summary>
public sealed class LoopTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadTimestamp(ref reader) ?? throw new JsonException("Expected a Loop timestamp, found an empty value.");

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(LoopTimestamps.ToRfc3339(value));
    }
}

/// <summary>As <see cref="LoopTimestampConverter"/>, but empty or null reads as null.</summary>
public sealed class LoopNullableTimestampConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => LoopTokens.ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v)
        {
            writer.WriteStringValue(LoopTimestamps.ToRfc3339(v));
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>
/// Reads a value Loop sends sometimes as one object and sometimes as an array of them (a location's
/// <c>address</c> is an object on the location API and a one-element array inside an inventory response).
/// </summary>
public sealed class LoopSingleOrFirstConverter<T> : JsonConverter<T>
    where T : class
{
    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var items = JsonSerializer.Deserialize<List<T>>(ref reader, options);
            return items is { Count: > 0 } ? items[0] : null;
        }

        return JsonSerializer.Deserialize<T>(ref reader, options);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        => JsonSerializer.Serialize(writer, value, options);
}

/// <summary>Timestamp parsing and formatting shared by the converters and the client.</summary>
public static class LoopTimestamps
{
    private static readonly string[] ZonelessFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd",
    ];

    /// <summary>RFC 3339 with offset and no fraction, e.g. <c>2023-04-25T13:25:00-05:00</c>.</summary>
    public static string ToRfc3339(DateTimeOffset value)
        => value.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>The Returns list <c>from</c>/<c>to</c> form: UTC <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public static string ToListQuery(DateTimeOffset value)
        => value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Parses any timestamp form Loop is known to send; text without a zone is UTC.</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        const DateTimeStyles utc = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
        if (DateTimeOffset.TryParseExact(trimmed, ZonelessFormats, CultureInfo.InvariantCulture, utc, out value))
        {
            return true;
        }

        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }
}

internal static class LoopTokens
{
    private static bool HasExplicitZone(ReadOnlySpan<byte> text)
        => text.Length > 19 && text[10] == (byte)'T'
           && (text[^1] == (byte)'Z' || (text.Length >= 25 && text[^6] is (byte)'+' or (byte)'-' && text[^3] == (byte)':'));

    public static string? ReadAsString(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => null,
        _ => throw new JsonException($"Expected a string or number, found {reader.TokenType}."),
    };

    public static decimal? ReadDecimal(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return reader.GetDecimal();
            case JsonTokenType.String:
                // Fast path: plain "120.00" parsed straight from the UTF-8 bytes, no string allocated.
                if (!reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan.Length > 0
                    && Utf8Parser.TryParse(reader.ValueSpan, out decimal fast, out var consumed) && consumed == reader.ValueSpan.Length)
                {
                    return fast;
                }

                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }

                if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                throw new JsonException("Expected a decimal amount in a Loop string value.");
            default:
                throw new JsonException($"Expected a decimal amount, found {reader.TokenType}.");
        }
    }

    public static bool? ReadBoolean(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return reader.GetDecimal() != 0;
            case JsonTokenType.String:
                var text = reader.GetString()?.Trim();
                if (string.IsNullOrEmpty(text))
                {
                    return null;
                }

                if (bool.TryParse(text, out var parsed))
                {
                    return parsed;
                }

                return text switch
                {
                    "1" or "yes" => true,
                    "0" or "no" => false,
                    _ => throw new JsonException("Expected a boolean in a Loop string value."),
                };
            default:
                throw new JsonException($"Expected a boolean, found {reader.TokenType}.");
        }
    }

    public static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                // Fast path for ISO 8601 with an explicit zone; zoneless text must not pick up the machine's offset.
                if (!reader.HasValueSequence && !reader.ValueIsEscaped && HasExplicitZone(reader.ValueSpan)
                    && reader.TryGetDateTimeOffset(out var fast))
                {
                    return fast;
                }

                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }

                if (LoopTimestamps.TryParse(text, out var value))
                {
                    return value;
                }

                throw new JsonException("Expected a Loop timestamp.");
            case JsonTokenType.Number:
                // Unix seconds: not seen from Loop, but cheap to accept rather than fail a whole event.
                return DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64());
            default:
                throw new JsonException($"Expected a timestamp, found {reader.TokenType}.");
        }
    }
}
