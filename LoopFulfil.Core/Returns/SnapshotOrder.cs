using System.Globalization;
using System.Text.Json;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Which of two snapshots of a return is the newer, so the ledger never goes backwards. Loop's times have whole
/// seconds and many payloads carry only <c>created_at</c>, so times alone tie often: on an equal or missing time the
/// state later in Loop's lifecycle wins (open &lt; review &lt; closed / cancelled / expired).
/// </summary>
public static class SnapshotOrder
{
    /// <summary>Position in Loop's lifecycle; the terminal states share the last place.</summary>
    public static int LifecycleRank(string? state) => ReturnStates.Normalise(state) switch
    {
        ReturnStates.Review => 1,
        ReturnStates.Closed or ReturnStates.Cancelled or ReturnStates.Expired => 2,
        _ => 0,
    };

    /// <summary>
    /// Positive when (<paramref name="time"/>, <paramref name="state"/>) is newer than the other, negative when older,
    /// zero when nothing tells them apart (same state at the same second, or both without a time).
    /// </summary>
    public static int Compare(DateTimeOffset? time, string? state, DateTimeOffset? otherTime, string? otherState)
    {
        if (time is { } t && otherTime is { } o && t != o)
        {
            return t.CompareTo(o);
        }

        int byLifecycle = LifecycleRank(state).CompareTo(LifecycleRank(otherState));
        if (byLifecycle != 0)
        {
            return byLifecycle;
        }

        // Same state, times equal or missing: a snapshot that has a time is the better-placed one.
        return (time is not null).CompareTo(otherTime is not null);
    }

    /// <summary>
    /// The latest time a return payload carries: every top-level <c>*_at</c> field (created_at, updated_at, edited_at,
    /// label_updated_at, and closed_at-style fields Loop may add) and each label's <c>updated_at</c>. Null when none
    /// parses. Times without an offset (Loop's <c>"2020-10-29 16:07:31"</c> form) are UTC.
    /// </summary>
    public static DateTimeOffset? LatestTime(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            using JsonDocument doc = JsonDocument.ParseValue(ref reader);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? LatestTime(doc.RootElement) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static DateTimeOffset? LatestTime(JsonElement root)
    {
        DateTimeOffset? latest = null;
        foreach (JsonProperty p in root.EnumerateObject())
        {
            if (p.Name.EndsWith("_at", StringComparison.Ordinal))
            {
                latest = Later(latest, Parse(p.Value));
            }
        }

        if (root.TryGetProperty("labels", out JsonElement labels) && labels.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement label in labels.EnumerateArray())
            {
                if (label.ValueKind == JsonValueKind.Object && label.TryGetProperty("updated_at", out JsonElement u))
                {
                    latest = Later(latest, Parse(u));
                }
            }
        }

        return latest;
    }

    /// <summary>The later of two optional times.</summary>
    public static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    private static DateTimeOffset? Parse(JsonElement value) =>
        value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset t)
            ? t
            : null;
}
