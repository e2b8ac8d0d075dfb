using System.Text.Json;
using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Loop.Json;

/// <summary>
/// The one set of serializer options for everything Loop sends or receives. Loop says it adds fields at will and
/// its real payloads disagree with themselves (ids as strings or numbers, money as strings, timestamps with and
/// without zone, trailing commas in published samples), so reading is tolerant and writing is plain snake_case.
/// </summary>
public static class LoopJson
{
    /// <summary>Shared, read-only options: snake_case names, unknown fields ignored, trailing commas and comments accepted.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Deserializes a Loop payload with <see cref="Options"/>; a <c>null</c> document is a <see cref="JsonException"/>.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
        => JsonSerializer.Deserialize<T>(utf8Json, Options) ?? throw new JsonException($"Loop sent null where a {typeof(T).Name} was expected.");

    /// <summary>Deserializes a Loop payload held as text.</summary>
    public static T Deserialize<T>(string json)
        => JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"Loop sent null where a {typeof(T).Name} was expected.");

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            PropertyNameCaseInsensitive = true,
            AllowTrailingCommas = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        };
        options.Converters.Add(new LoopStringConverter());
        options.Converters.Add(new LoopDecimalConverter());
        options.Converters.Add(new LoopNullableDecimalConverter());
        options.Converters.Add(new LoopBooleanConverter());
        options.Converters.Add(new LoopNullableBooleanConverter());
        options.Converters.Add(new LoopTimestampConverter());
        options.Converters.Add(new LoopNullableTimestampConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
