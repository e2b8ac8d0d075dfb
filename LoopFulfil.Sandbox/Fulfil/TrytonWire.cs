using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;

namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>
/// The sandbox's own reading and writing of Tryton JSON, written apart from the client's codec so a shared bug cannot
/// hide. Reads what Python's json + Tryton's decoder would produce: integers as <see cref="long"/>, other JSON numbers as
/// <see cref="double"/> (Python float), Tryton objects as decimal/date/datetime/time/timedelta. Writes the v2 shapes.
/// </summary>
internal static class TrytonWire
{
    public static object? Decode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonArray array:
                return array.Select(Decode).ToList();
            case JsonObject obj when obj["__class__"] is JsonValue cls:
                return DecodeClass(cls.GetValue<string>(), obj);
            case JsonObject obj:
                return obj.ToDictionary(p => p.Key, p => Decode(p.Value), StringComparer.Ordinal);
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.String => value.GetValue<string>(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number => DecodeNumber(value.ToJsonString()),
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static object DecodeNumber(string raw)
    {
        // Separate returns: a conditional expression would silently widen the long to double.
        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }

        return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static object? DecodeClass(string cls, JsonObject o)
    {
        string? Iso() => o["iso_string"]?.GetValue<string>();
        int I(string name) => o[name]!.GetValue<int>();
        bool Has(string name) => o.ContainsKey(name);
        switch (cls)
        {
            case "Decimal":
                var raw = o["decimal"]!;
                return decimal.Parse(raw.GetValueKind() == JsonValueKind.String ? raw.GetValue<string>() : raw.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            case "date":
                return Has("year") ? new DateOnly(I("year"), I("month"), I("day")) : DateOnly.Parse(Iso()!, CultureInfo.InvariantCulture);
            case "datetime":
                if (Has("year"))
                {
                    return new DateTime(I("year"), I("month"), I("day"), I("hour"), I("minute"), I("second"), DateTimeKind.Utc)
                        .AddTicks((Has("microsecond") ? I("microsecond") : 0) * 10L);
                }

                return DateTime.SpecifyKind(DateTime.Parse(Iso()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), DateTimeKind.Utc);
            case "time":
                return Has("hour")
                    ? new TimeOnly(I("hour"), I("minute"), I("second")).Add(TimeSpan.FromTicks((Has("microsecond") ? I("microsecond") : 0) * 10L))
                    : TimeOnly.Parse(Iso()!, CultureInfo.InvariantCulture);
            case "timedelta":
                return Has("seconds") ? TimeSpan.FromSeconds(o["seconds"]!.GetValue<double>()) : XmlConvert.ToTimeSpan(Iso()!);
            case "bytes":
                return Convert.FromBase64String(o["base64"]!.GetValue<string>());
            default:
                throw new SandboxUserError("E_ENCODING", $"Unknown Tryton class '{cls}'.");
        }
    }

    public static JsonNode? Encode(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case JsonNode node:
                return node.DeepClone();
            case string s:
                return JsonValue.Create(s);
            case bool b:
                return JsonValue.Create(b);
            case int i:
                return JsonValue.Create(i);
            case long l:
                return JsonValue.Create(l);
            case double d:
                return JsonValue.Create(d);
            case decimal m:
                return new JsonObject { ["__class__"] = "Decimal", ["decimal"] = m.ToString(CultureInfo.InvariantCulture) };
            case DateOnly date:
                return new JsonObject
                {
                    ["__class__"] = "date", ["year"] = date.Year, ["month"] = date.Month, ["day"] = date.Day,
                    ["iso_string"] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                };
            case DateTime dt:
                var micro = (int)(dt.Ticks % TimeSpan.TicksPerSecond / 10);
                var iso = dt.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)
                    + (micro == 0 ? "" : "." + micro.ToString("000000", CultureInfo.InvariantCulture));
                return new JsonObject
                {
                    ["__class__"] = "datetime", ["year"] = dt.Year, ["month"] = dt.Month, ["day"] = dt.Day,
                    ["hour"] = dt.Hour, ["minute"] = dt.Minute, ["second"] = dt.Second, ["microsecond"] = micro, ["iso_string"] = iso,
                };
            case TimeSpan span:
                return new JsonObject { ["__class__"] = "timedelta", ["seconds"] = span.TotalSeconds, ["iso_string"] = XmlConvert.ToString(span) };
            case IDictionary<string, object?> dict:
                var obj = new JsonObject();
                foreach (var (k, v) in dict)
                {
                    obj[k] = Encode(v);
                }

                return obj;
            case System.Collections.IEnumerable list:
                var array = new JsonArray();
                foreach (var item in list)
                {
                    array.Add(Encode(item));
                }

                return array;
            default:
                throw new InvalidOperationException($"Sandbox cannot encode {value.GetType().Name}.");
        }
    }
}

/// <summary>A business-rule refusal, answered as Fulfil's 400 <c>UserError</c>.</summary>
internal sealed class SandboxUserError(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>A missing model, record or method, answered 404.</summary>
internal sealed class SandboxNotFound(string message) : Exception(message);

/// <summary>A malformed request (unknown field, wrong type), answered 400 without a <c>UserError</c> type.</summary>
internal sealed class SandboxBadRequest(string message) : Exception(message);
