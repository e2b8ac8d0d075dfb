using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Property names every Loop event message carries, on both hosts.</summary>
public static class WebhookMessagePropertyNames
{
    public const string Topic = "topic";
    public const string Trigger = "trigger";
    public const string ReturnId = "returnId";
    public const string State = "state";

    /// <summary>
    /// The event's idempotency key: equal to the ingress MessageId, and kept unchanged when an exception record is
    /// replayed under a fresh MessageId, so consumers can still recognise the event.
    /// </summary>
    public const string DedupeKey = "dedupeKey";

    /// <summary>Set on replays: the exception record id the event was replayed from.</summary>
    public const string ReplayOf = "replayOf";

    /// <summary>
    /// The event's time as the ingress read it (<see cref="WebhookEnvelope.EventTime"/>): round-trip ISO 8601 in
    /// UTC, or <see cref="NoEventTime"/> when the body carries none. Absent on messages queued before it existed:
    /// consumers then read the body.
    /// </summary>
    public const string EventTime = "eventTime";

    /// <summary>The <see cref="EventTime"/> value when the ingress read the body and found no time in it.</summary>
    public const string NoEventTime = "none";
}

/// <summary>
/// The application properties of a Loop event message as one small object (instead of a dictionary with its
/// buckets and entries): the webhook path builds one per request.
/// </summary>
internal sealed class WebhookMessageProperties : IReadOnlyDictionary<string, string>
{
    private readonly string? _topic;
    private readonly string _trigger;
    private readonly string _returnId;
    private readonly string? _state;
    private readonly string _dedupeKey;
    private readonly string? _replayOf;
    private readonly string _eventTime;

    private static readonly string[] Names =
    [
        WebhookMessagePropertyNames.Topic, WebhookMessagePropertyNames.Trigger, WebhookMessagePropertyNames.ReturnId,
        WebhookMessagePropertyNames.State, WebhookMessagePropertyNames.DedupeKey, WebhookMessagePropertyNames.ReplayOf,
        WebhookMessagePropertyNames.EventTime,
    ];

    public WebhookMessageProperties(string? topic, string trigger, string returnId, string? state, string dedupeKey, DateTimeOffset? eventTime, string? replayOf = null)
    {
        _eventTime = FormatEventTime(eventTime);
        _topic = topic;
        _trigger = trigger;
        _returnId = returnId;
        _state = state;
        _dedupeKey = dedupeKey;
        _replayOf = replayOf;
    }

    public int Count
    {
        get
        {
            var n = 0;
            for (var i = 0; i < Names.Length; i++)
            {
                if (ValueAt(i) is not null)
                {
                    n++;
                }
            }

            return n;
        }
    }

    public IEnumerable<string> Keys
    {
        get
        {
            foreach (var pair in this)
            {
                yield return pair.Key;
            }
        }
    }

    public IEnumerable<string> Values
    {
        get
        {
            foreach (var pair in this)
            {
                yield return pair.Value;
            }
        }
    }

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        var index = Array.IndexOf(Names, key);
        value = index >= 0 ? ValueAt(index) : null;
        return value is not null;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (ValueAt(i) is { } v)
            {
                yield return new KeyValuePair<string, string>(Names[i], v);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Absent values (null) are left out rather than sent as empty strings.
    private string? ValueAt(int index) => index switch
    {
        0 => _topic,
        1 => _trigger,
        2 => _returnId,
        3 => _state,
        4 => _dedupeKey,
        5 => _replayOf,
        _ => _eventTime,
    };

    /// <summary>The <see cref="WebhookMessagePropertyNames.EventTime"/> value for a time (or for none).</summary>
    public static string FormatEventTime(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) : WebhookMessagePropertyNames.NoEventTime;

    /// <summary>The time an <see cref="WebhookMessagePropertyNames.EventTime"/> value holds; null for none or unreadable.</summary>
    public static DateTimeOffset? ParseEventTime(string? value) =>
        value is not null && value != WebhookMessagePropertyNames.NoEventTime
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : null;
}
