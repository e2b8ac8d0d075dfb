using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// Tryton's JSON encoding of non-JSON types, as Fulfil sends and accepts it. Reads the v1 (components), v2
/// (components + <c>iso_string</c>) and v3 (<c>iso_string</c> only) shapes; writes v2, which every server version reads.
/// Decimals always travel as <c>{"__class__":"Decimal","decimal":"…"}</c> strings so money never passes through a binary float.
/// </summary>
public static class TrytonJson
{
    /// <summary>Options for Fulfil payloads: Tryton converters and snake_case property names.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Fresh options with the Tryton converters (callers may add their own before first use).</summary>
    public static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new TrytonDecimalConverter());
        options.Converters.Add(new TrytonDateConverter());
        options.Converters.Add(new TrytonDateTimeConverter());
        options.Converters.Add(new TrytonDateTimeOffsetConverter());
        options.Converters.Add(new TrytonTimeConverter());
        options.Converters.Add(new TrytonTimeDeltaConverter());
        options.Converters.Add(new TrytonFloatConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    internal const string ClassProperty = "__class__";

    /// <summary>Collects the members of a Tryton object into a small struct, in whatever order they come.</summary>
    /// <remarks>Names and the class tag are compared as UTF-8 bytes and decimals parsed from bytes, so the common
    /// shapes read without allocating strings.</remarks>
    internal static TrytonObject ReadObject(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Expected a Tryton object, got {reader.TokenType}.");
        }

        var result = default(TrytonObject);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return result;
            }

            if (reader.ValueTextEquals("__class__"u8))
            {
                reader.Read();
                result.Class = ReadClass(ref reader);
            }
            else if (reader.ValueTextEquals("decimal"u8))
            {
                reader.Read();
                result.Decimal = ReadDecimalValue(ref reader);
            }
            else if (reader.ValueTextEquals("iso_string"u8))
            {
                reader.Read();
                result.Iso = reader.GetString();
            }
            else
            {
                var field = reader.ValueTextEquals("year"u8) ? 0
                    : reader.ValueTextEquals("month"u8) ? 1
                    : reader.ValueTextEquals("day"u8) ? 2
                    : reader.ValueTextEquals("hour"u8) ? 3
                    : reader.ValueTextEquals("minute"u8) ? 4
                    : reader.ValueTextEquals("second"u8) ? 5
                    : reader.ValueTextEquals("microsecond"u8) ? 6
                    : reader.ValueTextEquals("seconds"u8) ? 7
                    : -1;
                reader.Read();
                switch (field)
                {
                    case 0: result.Year = reader.GetInt32(); break;
                    case 1: result.Month = reader.GetInt32(); break;
                    case 2: result.Day = reader.GetInt32(); break;
                    case 3: result.Hour = reader.GetInt32(); break;
                    case 4: result.Minute = reader.GetInt32(); break;
                    case 5: result.Second = reader.GetInt32(); break;
                    case 6: result.Microsecond = reader.GetInt32(); break;
                    case 7: result.Seconds = reader.GetDecimal(); break;
                    default: reader.Skip(); break;
                }
            }
        }

        throw new JsonException("Unterminated Tryton object.");
    }

    private static string? ReadClass(ref Utf8JsonReader reader)
    {
        // Interned names for the known classes: the tag is compared by reference-free equality later, but never allocated.
        if (reader.ValueTextEquals("Decimal"u8)) { return "Decimal"; }
        if (reader.ValueTextEquals("datetime"u8)) { return "datetime"; }
        if (reader.ValueTextEquals("date"u8)) { return "date"; }
        if (reader.ValueTextEquals("time"u8)) { return "time"; }
        if (reader.ValueTextEquals("timedelta"u8)) { return "timedelta"; }
        return reader.GetString();
    }

    private static decimal? ReadDecimalValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetDecimal();
        }

        if (reader.TokenType == JsonTokenType.String && !reader.HasValueSequence && !reader.ValueIsEscaped
            && System.Buffers.Text.Utf8Parser.TryParse(reader.ValueSpan, out decimal value, out var consumed, 'G') && consumed == reader.ValueSpan.Length)
        {
            return value;
        }

        var text = reader.GetString();
        return text is null ? null : decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    internal static void WriteClass(Utf8JsonWriter writer, string cls)
    {
        writer.WriteStartObject();
        writer.WriteString(ClassProperty, cls);
    }

    internal static void ExpectClass(in TrytonObject o, string cls)
    {
        if (!string.Equals(o.Class, cls, StringComparison.Ordinal))
        {
            throw new JsonException($"Expected Tryton {cls}, got {o.Class ?? "an object without __class__"}.");
        }
    }

    internal static string Microseconds(long ticks) =>
        (ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture);

    internal struct TrytonObject
    {
        public string? Class;
        public decimal? Decimal;
        public string? Iso;
        public int? Year, Month, Day, Hour, Minute, Second, Microsecond;
        public decimal? Seconds;

        public readonly bool HasDate => Year is not null && Month is not null && Day is not null;

        public readonly long TimeTicks =>
            new TimeSpan(Hour ?? 0, Minute ?? 0, Second ?? 0).Ticks + ((Microsecond ?? 0) * 10L);
    }
}

/// <summary>Decimal: reads Tryton objects, JSON numbers and numeric strings; writes the Tryton object.</summary>
public sealed class TrytonDecimalConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.GetDecimal();
            case JsonTokenType.String:
                return decimal.Parse(reader.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
            case JsonTokenType.StartObject:
                var o = TrytonJson.ReadObject(ref reader);
                TrytonJson.ExpectClass(o, "Decimal");
                return o.Decimal ?? throw new JsonException("Decimal without a value.");
            default:
                throw new JsonException($"Cannot read a decimal from {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
    {
        TrytonJson.WriteClass(writer, "Decimal");
        // Invariant formatting keeps the scale ("12.50" stays "12.50"), which Fulfil echoes back as entered.
        Span<char> text = stackalloc char[40];
        value.TryFormat(text, out var length, default, CultureInfo.InvariantCulture);
        writer.WriteString("decimal"u8, text[..length]);
        writer.WriteEndObject();
    }
}

/// <summary>
/// A quantity or other Tryton <c>Float</c> field: held as decimal here, but sent as a plain JSON number because
/// that is what Tryton's float fields carry; reads numbers and Decimal objects.
/// </summary>
public readonly record struct TrytonFloat(decimal Value)
{
    public static implicit operator TrytonFloat(decimal value) => new(value);

    public static TrytonFloat FromDecimal(decimal value) => new(value);
}

/// <summary>Converter for <see cref="TrytonFloat"/>.</summary>
public sealed class TrytonFloatConverter : JsonConverter<TrytonFloat>
{
    private static readonly TrytonDecimalConverter Inner = new();

    public override TrytonFloat Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(Inner.Read(ref reader, typeof(decimal), options));

    public override void Write(Utf8JsonWriter writer, TrytonFloat value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.Value);
}

/// <summary>Tryton <c>date</c> ⇄ <see cref="DateOnly"/>.</summary>
public sealed class TrytonDateConverter : JsonConverter<DateOnly>
{
    public override DateOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return DateOnly.ParseExact(reader.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        var o = TrytonJson.ReadObject(ref reader);
        TrytonJson.ExpectClass(o, "date");
        return o.HasDate
            ? new DateOnly(o.Year!.Value, o.Month!.Value, o.Day!.Value)
            : DateOnly.ParseExact(o.Iso ?? throw new JsonException("date without components or iso_string."), "yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    public override void Write(Utf8JsonWriter writer, DateOnly value, JsonSerializerOptions options)
    {
        TrytonJson.WriteClass(writer, "date");
        writer.WriteNumber("year", value.Year);
        writer.WriteNumber("month", value.Month);
        writer.WriteNumber("day", value.Day);
        Span<char> iso = stackalloc char[10];
        value.TryFormat(iso, out var length, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        writer.WriteString("iso_string"u8, iso[..length]);
        writer.WriteEndObject();
    }
}

/// <summary>
/// Tryton <c>datetime</c> ⇄ <see cref="DateTime"/>. Tryton datetimes are naive UTC, so reads are
/// <see cref="DateTimeKind.Utc"/> and writes convert local times to UTC first.
/// </summary>
public sealed class TrytonDateTimeConverter : JsonConverter<DateTime>
{
    private static readonly string[] IsoFormats = ["yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm:ss"];

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return ParseIso(reader.GetString()!);
        }

        var o = TrytonJson.ReadObject(ref reader);
        TrytonJson.ExpectClass(o, "datetime");
        if (o.HasDate)
        {
            return new DateTime(o.Year!.Value, o.Month!.Value, o.Day!.Value, 0, 0, 0, DateTimeKind.Utc).AddTicks(o.TimeTicks);
        }

        return ParseIso(o.Iso ?? throw new JsonException("datetime without components or iso_string."));
    }

    private static DateTime ParseIso(string iso)
    {
        // Offsets are not Tryton's, but a v3 server or a proxy may add one; honour it rather than mis-read the hour.
        if (iso.EndsWith('Z') || (iso.Length > 19 && (iso[^6] == '+' || iso[^6] == '-')))
        {
            return DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).UtcDateTime;
        }

        return DateTime.SpecifyKind(DateTime.ParseExact(iso, IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.None), DateTimeKind.Utc);
    }

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        TrytonJson.WriteClass(writer, "datetime");
        writer.WriteNumber("year", utc.Year);
        writer.WriteNumber("month", utc.Month);
        writer.WriteNumber("day", utc.Day);
        writer.WriteNumber("hour", utc.Hour);
        writer.WriteNumber("minute", utc.Minute);
        writer.WriteNumber("second", utc.Second);
        var micro = (int)(utc.Ticks % TimeSpan.TicksPerSecond / 10);
        writer.WriteNumber("microsecond", micro);
        // Python's isoformat drops the fraction when it is zero; match it so both sides agree byte for byte.
        Span<char> iso = stackalloc char[26];
        utc.TryFormat(iso, out var length, micro == 0 ? "yyyy-MM-ddTHH:mm:ss" : "yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        writer.WriteString("iso_string"u8, iso[..length]);
        writer.WriteEndObject();
    }
}

/// <summary>Tryton <c>datetime</c> ⇄ <see cref="DateTimeOffset"/> (always UTC on the wire).</summary>
public sealed class TrytonDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    private static readonly TrytonDateTimeConverter Inner = new();

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(Inner.Read(ref reader, typeof(DateTime), options));

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        Inner.Write(writer, value.UtcDateTime, options);
}

/// <summary>Tryton <c>time</c> ⇄ <see cref="TimeOnly"/>.</summary>
public sealed class TrytonTimeConverter : JsonConverter<TimeOnly>
{
    private static readonly string[] IsoFormats = ["HH:mm:ss.FFFFFFF", "HH:mm:ss", "HH:mm"];

    public override TimeOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return TimeOnly.ParseExact(reader.GetString()!, IsoFormats, CultureInfo.InvariantCulture);
        }

        var o = TrytonJson.ReadObject(ref reader);
        TrytonJson.ExpectClass(o, "time");
        if (o.Hour is not null)
        {
            return new TimeOnly(o.TimeTicks);
        }

        return TimeOnly.ParseExact(o.Iso ?? throw new JsonException("time without components or iso_string."), IsoFormats, CultureInfo.InvariantCulture);
    }

    public override void Write(Utf8JsonWriter writer, TimeOnly value, JsonSerializerOptions options)
    {
        TrytonJson.WriteClass(writer, "time");
        writer.WriteNumber("hour", value.Hour);
        writer.WriteNumber("minute", value.Minute);
        writer.WriteNumber("second", value.Second);
        var micro = (int)(value.Ticks % TimeSpan.TicksPerSecond / 10);
        writer.WriteNumber("microsecond", micro);
        var iso = value.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        writer.WriteString("iso_string", micro == 0 ? iso : iso + "." + TrytonJson.Microseconds(value.Ticks));
        writer.WriteEndObject();
    }
}

/// <summary>Tryton <c>timedelta</c> ⇄ <see cref="TimeSpan"/> (<c>seconds</c>, or an ISO 8601 duration in v3).</summary>
public sealed class TrytonTimeDeltaConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var o = TrytonJson.ReadObject(ref reader);
        TrytonJson.ExpectClass(o, "timedelta");
        if (o.Seconds is { } seconds)
        {
            return TimeSpan.FromTicks((long)decimal.Round(seconds * TimeSpan.TicksPerSecond));
        }

        return XmlConvert.ToTimeSpan(o.Iso ?? throw new JsonException("timedelta without seconds or iso_string."));
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        TrytonJson.WriteClass(writer, "timedelta");
        writer.WriteNumber("seconds", (decimal)value.Ticks / TimeSpan.TicksPerSecond);
        writer.WriteString("iso_string", XmlConvert.ToString(value));
        writer.WriteEndObject();
    }
}
