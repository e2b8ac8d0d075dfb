using System.Text.Json;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Webhooks;

/// <summary>The event time rule: every time the body carries, parsed as Loop's models parse them; the latest wins.</summary>
internal readonly partial struct WebhookEnvelope
{
    // Unix seconds DateTimeOffset can hold (0001-01-01 to 9999-12-31).
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;

    // LoopJson.Options writes whole seconds (Loop's API form). A webhook's time keeps any fraction its text has, so the
    // snapshot time is read from the return written with exact times: the same return gives the ingress's stamp.
    // Ordering compares whole seconds (SnapshotOrder), so a fraction never decides which snapshot is newer.
    private static readonly JsonSerializerOptions ExactTimes = CreateExactTimes();

    /// <summary>
    /// The time of a Loop return snapshot that did not come in a webhook (fetched from Loop, listed by the catch-up
    /// sweep, sent in a repair message): <see cref="EventTime"/> of the return written as JSON (<see cref="LoopJson.Options"/>
    /// with exact times), so it is compared with stored webhook snapshots by the very rule that timed them: the same
    /// return gives the same time whichever way it came. Null when it carries no time. Not counted in
    /// <see cref="EnvelopeReads"/>: no message body is read.
    /// </summary>
    public static DateTimeOffset? SnapshotTimeOf(LoopReturn snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Read(JsonSerializer.SerializeToUtf8Bytes(snapshot, ExactTimes), isFinalBlock: true).EventTime;
    }

    private static JsonSerializerOptions CreateExactTimes()
    {
        // Without Loop's timestamp converters System.Text.Json writes ISO 8601 with the fraction, which ReadTime parses.
        var options = new JsonSerializerOptions(LoopJson.Options);
        for (var i = options.Converters.Count - 1; i >= 0; i--)
        {
            if (options.Converters[i] is LoopTimestampConverter or LoopNullableTimestampConverter)
            {
                options.Converters.RemoveAt(i);
            }
        }

        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// The time a scalar holds, or null: never throws for a value that is not a time (a mutated or odd body is
    /// still routed by its other fields). Strings go through <see cref="LoopTimestamps.TryParse"/> (zoneless text is
    /// UTC, as in the models); numbers are Unix seconds, as <c>LoopTimestampConverter</c> reads them.
    /// </summary>
    private static DateTimeOffset? ReadTime(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String when reader.ValueSpan.Length <= MaxTimestampBytes
            => LoopTimestamps.TryParse(reader.GetString(), out var t) ? t.ToUniversalTime() : null,
        JsonTokenType.Number when reader.TryGetInt64(out var seconds) && seconds is >= MinUnixSeconds and <= MaxUnixSeconds
            => DateTimeOffset.FromUnixTimeSeconds(seconds),
        _ => null,
    };
}

/// <summary>
/// Counts full envelope reads in the current async flow, so a test can show how often one body is read between
/// HTTP and Fulfil. Off (one null check per read) unless a test starts a count.
/// </summary>
internal static class EnvelopeReads
{
    private static readonly AsyncLocal<ReadCount?> Current = new();

    /// <summary>Starts counting in this async flow and what it calls.</summary>
    public static ReadCount Start() => Current.Value = new ReadCount();

    public static void Count()
    {
        if (Current.Value is { } box)
        {
            Interlocked.Increment(ref box.Reads);
        }
    }

    internal sealed class ReadCount
    {
        public int Reads;
    }
}
