using System.Globalization;
using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// Field access on a <c>search_read</c> row. Rows stay as <see cref="JsonElement"/> because several field names are
/// settings (inferred parts of the API), which fixed DTO attributes could not follow.
/// </summary>
internal static class FulfilRows
{
    public static int Id(this JsonElement row) => row.GetProperty("id").GetInt32();

    public static int? IntOrNull(this JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    public static string? Str(this JsonElement row, string name)
    {
        if (!row.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        };
    }

    public static bool Bool(this JsonElement row, string name, bool whenMissing) =>
        row.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : whenMissing;

    public static decimal? DecOrNull(this JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.Deserialize<decimal>(TrytonJson.Options) : null;

    public static decimal Dec(this JsonElement row, string name) => row.DecOrNull(name) ?? 0m;

    public static DateOnly? Date(this JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.Deserialize<DateOnly>(TrytonJson.Options) : null;

    public static DateTime? DateTime(this JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.Deserialize<DateTime>(TrytonJson.Options) : null;

    public static IReadOnlyList<int> Ids(this JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32()).ToList()
            : [];

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
