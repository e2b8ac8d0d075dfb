using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Privacy;

/// <summary>One stored record that held the person's data, and what erasure did to it (keys and field names only).</summary>
/// <param name="Store">Where: <c>table returns</c>, <c>blob claimcheck</c>, ….</param>
/// <param name="Key">The record's key (<c>partition / row</c>, or the blob name): ids, never a personal value.</param>
/// <param name="Fields">The fields that held personal data (body prefixes such as <c>Snapshot</c>, or property names).</param>
/// <param name="Action">What was done: masked, deleted, or left (and why).</param>
public sealed record ErasureEntry(string Store, string Key, IReadOnlyList<string> Fields, string Action);

/// <summary>
/// What an erasure found and changed, and when: the record a merchant keeps to show the request was answered. It
/// names record keys and field names, never the e-mail or any other personal value.
/// </summary>
public sealed record ErasureReceipt
{
    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Loop return ids whose stored data belonged to the person.</summary>
    public required IReadOnlyList<string> ReturnIds { get; init; }

    public required IReadOnlyList<ErasureEntry> Entries { get; init; }

    /// <summary>Tables and blob containers searched.</summary>
    public required IReadOnlyList<string> Searched { get; init; }

    public int RecordsChanged => Entries.Count(e => e.Action.StartsWith("masked", StringComparison.Ordinal) || e.Action.StartsWith("deleted", StringComparison.Ordinal));

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The receipt as text, for the terminal and for filing with the request.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine("LoopFulfil erasure receipt");
        text.AppendLine(CultureInfo.InvariantCulture, $"Started:   {StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"Completed: {CompletedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"Searched:  {string.Join(", ", Searched)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Loop returns of the person: {(ReturnIds.Count == 0 ? "none" : string.Join(", ", ReturnIds))}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Records holding the person's data: {Entries.Count}; changed now: {RecordsChanged}");
        foreach (var entry in Entries)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {entry.Store}  {entry.Key}  [{string.Join(", ", entry.Fields)}]  {entry.Action}");
        }

        if (Entries.Count == 0)
        {
            text.AppendLine("  Nothing stored holds this person's data (never stored, or erased before).");
        }

        text.AppendLine("Kept: ids, SKUs, quantities, amounts, states and times (the accounting and stock record; see docs/privacy.md).");
        text.AppendLine("Not covered: Loop and Fulfil hold their own copies; erase there too.");
        return text.ToString();
    }
}
