using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Why a signed event could not be routed.</summary>
internal enum EnvelopeProblem
{
    None,
    EmptyBody,
    MalformedJson,
    InvalidUtf8,
    InvalidText,
    NotAnObject,
    MissingTrigger,
    UnknownTrigger,
    ParkedTrigger,
    MissingReturnId,
}

/// <summary>
/// The one reader of a Loop event's envelope: the few fields that routing, de-duplication and snapshot order need
/// (trigger, return id, state, event time), read with a forward-only <see cref="Utf8JsonReader"/> pass over the raw
/// bytes (which also proves the whole body is well-formed JSON). The ingress reads it once and puts what it read in
/// the message properties; a consumer reads it again only for a message queued without them (<c>ReturnEvent.From</c>).
/// Nothing else is materialised: the consumer deserialises the body later, off the request path.
/// </summary>
internal readonly partial struct WebhookEnvelope
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        // Loop's own published samples carry trailing commas; accept them rather than park every such event.
        AllowTrailingCommas = true,

        // Loop never sends comments, and allowing them puts the reader on its slower comment-aware path.
        CommentHandling = JsonCommentHandling.Disallow,
    };

    private static readonly string[] KnownTopics =
        ["return", "label", "restock", "giftcard", "label.request", "return.processing", "happy.returns.shipment"];

    private static readonly string[] KnownStates = ["open", "closed", "cancelled", "expired", "review", "needs review"];

    private const int MaxFreeTextChars = 100;
    private const int MaxReturnIdChars = 128;
    private const int MaxTimestampBytes = 64;

    private WebhookEnvelope(EnvelopeProblem problem, string? topic, string? trigger, string? returnId, string? state, TokenRange timestamp, TokenRange id, TokenRange returnIdToken, DateTimeOffset? eventTime = null)
    {
        Problem = problem;
        EventTime = eventTime;
        Topic = topic;
        Trigger = trigger;
        ReturnId = returnId;
        State = state;
        Timestamp = timestamp;
        IdToken = id;
        ReturnIdToken = returnIdToken;
    }

    public EnvelopeProblem Problem { get; }

    public string? Topic { get; }

    public string? Trigger { get; }

    /// <summary>The Loop return id, normalised to its digits/characters whatever its JSON type.</summary>
    public string? ReturnId { get; }

    public string? State { get; }

    /// <summary>edited_at, else updated_at, else label_updated_at (raw value bytes): part of the message id.</summary>
    public TokenRange Timestamp { get; }

    /// <summary>
    /// The event's time: the latest of every time the body carries (each top-level <c>*_at</c> field, closed_at-style
    /// fields included, and each label's <c>updated_at</c>), parsed as Loop's models parse times; null when none parses.
    /// Equal or missing times are settled by Loop's lifecycle (<c>SnapshotOrder</c>).
    /// </summary>
    public DateTimeOffset? EventTime { get; }

    /// <summary>The trigger's row in <see cref="TriggerTable"/>, or null when the trigger is missing or unknown.</summary>
    public TriggerRoute? Route => TriggerTable.Find(Trigger);

    public TokenRange IdToken { get; }

    public TokenRange ReturnIdToken { get; }

    public bool IsRoutable => Problem == EnvelopeProblem.None;

    /// <summary>
    /// Reads the envelope. Never throws for bad input: the problem is reported instead. JSON text must be UTF-8
    /// (RFC 8259), so a body that is not, or whose escapes make no valid Unicode, is a problem like malformed JSON:
    /// everything downstream can then read every string of a routed body.
    /// </summary>
    public static WebhookEnvelope Parse(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Failed(EnvelopeProblem.EmptyBody);
        }

        if (!Utf8.IsValid(body))
        {
            return Failed(EnvelopeProblem.InvalidUtf8);
        }

        EnvelopeReads.Count();
        return Read(body, isFinalBlock: true);
    }

    /// <summary>
    /// What the first bytes of a body that was not kept whole (an oversize one) say: topic, trigger and return id
    /// as far as they can be read. Never throws; nulls for what cannot be read.
    /// </summary>
    public static (string? Topic, string? Trigger, string? ReturnId) PeekPrefix(ReadOnlySpan<byte> prefix)
    {
        var envelope = Read(prefix, isFinalBlock: false);
        var returnId = envelope.ReturnId
            ?? envelope.ReturnIdToken.TryGetIdentifier(prefix, MaxReturnIdChars)
            ?? envelope.IdToken.TryGetIdentifier(prefix, MaxReturnIdChars);
        return (envelope.Topic, envelope.Trigger, returnId);
    }

    private static WebhookEnvelope Read(ReadOnlySpan<byte> body, bool isFinalBlock)
    {
        string? topic = null, trigger = null, state = null, returnState = null;
        TokenRange id = default, returnId = default, editedAt = default, updatedAt = default, labelUpdatedAt = default;
        DateTimeOffset? latest = null;
        var inLabels = false;
        var reader = new Utf8JsonReader(body, isFinalBlock, new JsonReaderState(ReaderOptions));
        var problem = EnvelopeProblem.None;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                // Still walk to the end so "[1,2" is reported as malformed rather than merely not an object.
                while (reader.Read())
                {
                }

                return Failed(isFinalBlock ? EnvelopeProblem.NotAnObject : EnvelopeProblem.MalformedJson);
            }

            // Every token is visited (nothing is skipped) so every escaped string is proven to decode.
            var field = Field.Other;
            while (reader.Read())
            {
                if (reader.ValueIsEscaped)
                {
                    EnsureDecodes(ref reader);
                }

                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    field = reader.CurrentDepth == 1 ? Classify(ref reader)
                        : inLabels && reader.CurrentDepth == 3 && reader.ValueTextEquals("updated_at"u8) ? Field.OtherTime
                        : Field.Other;
                    continue;
                }

                if (inLabels && reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 1)
                {
                    inLabels = false;
                }

                var current = field;
                field = Field.Other;
                switch (current)
                {
                    case Field.Topic:
                        topic = ReadKnownOrCopy(ref reader, KnownTopics, MaxFreeTextChars);
                        break;
                    case Field.Trigger:
                        trigger = ReadKnownOrCopy(ref reader, TriggerTable.Names, MaxFreeTextChars);
                        break;
                    case Field.State:
                        state = ReadKnownOrCopy(ref reader, KnownStates, MaxFreeTextChars);
                        break;
                    case Field.ReturnState:
                        returnState = ReadKnownOrCopy(ref reader, KnownStates, MaxFreeTextChars);
                        break;
                    case Field.Id:
                        id = TokenRange.FromScalar(ref reader);
                        break;
                    case Field.ReturnId:
                        returnId = TokenRange.FromScalar(ref reader);
                        break;
                    case Field.EditedAt:
                        editedAt = TokenRange.FromScalar(ref reader);
                        latest = SnapshotOrder.Later(latest, ReadTime(ref reader));
                        break;
                    case Field.UpdatedAt:
                        updatedAt = TokenRange.FromScalar(ref reader);
                        latest = SnapshotOrder.Later(latest, ReadTime(ref reader));
                        break;
                    case Field.LabelUpdatedAt:
                        labelUpdatedAt = TokenRange.FromScalar(ref reader);
                        latest = SnapshotOrder.Later(latest, ReadTime(ref reader));
                        break;
                    case Field.OtherTime:
                        latest = SnapshotOrder.Later(latest, ReadTime(ref reader));
                        break;
                    case Field.Labels:
                        inLabels = reader.TokenType == JsonTokenType.StartArray;
                        break;
                    default:
                        break;
                }
            }
        }
        catch (JsonException)
        {
            problem = EnvelopeProblem.MalformedJson;
        }
        catch (InvalidOperationException)
        {
            // An escape that makes no valid UTF-16 (a lone surrogate such as \ud800), or text cut mid-character.
            problem = EnvelopeProblem.InvalidText;
        }

        if (problem != EnvelopeProblem.None && isFinalBlock)
        {
            return Failed(problem);
        }

        state ??= returnState;
        var timestamp = FirstString(editedAt, updatedAt, labelUpdatedAt);

        if (trigger is null)
        {
            return new WebhookEnvelope(EnvelopeProblem.MissingTrigger, topic, null, null, state, timestamp, id, returnId, latest);
        }

        // Only Loop's own triggers come in through a webhook; the integration's are never accepted from outside.
        if (TriggerTable.Find(trigger) is not { Source: TriggerSource.Loop } route)
        {
            return new WebhookEnvelope(EnvelopeProblem.UnknownTrigger, topic, trigger, null, state, timestamp, id, returnId, latest);
        }

        if (route.IsParked)
        {
            return new WebhookEnvelope(EnvelopeProblem.ParkedTrigger, topic, trigger, null, state, timestamp, id, returnId, latest);
        }

        var chosen = ChooseReturnIdToken(route.ReturnIdIn, id, returnId);
        var normalised = chosen.TryGetIdentifier(body, MaxReturnIdChars);
        return normalised is null
            ? new WebhookEnvelope(EnvelopeProblem.MissingReturnId, topic, trigger, null, state, timestamp, id, returnId, latest)
            : new WebhookEnvelope(EnvelopeProblem.None, topic, trigger, normalised, state, timestamp, id, returnId, latest);
    }

    /// <summary>
    /// Stable message id: hex SHA-256 over (trigger, return id, state, edited/updated at, SHA-256 of the body).
    /// The body hash sees the top-level <c>id</c>/<c>return_id</c> in one canonical form (a JSON string) so the same
    /// event with numeric or string ids gets the same id; every other byte counts as received.
    /// </summary>
    public string ComputeMessageId(ReadOnlySpan<byte> body)
    {
        Span<byte> bodyHash = stackalloc byte[SHA256.HashSizeInBytes];
        ComputeBodyFingerprint(body, bodyHash);

        var h = Hashers.Sha256;
        h.AppendData("loopfulfil.webhook.v1"u8);
        AppendField(h, Trigger);
        AppendField(h, ReturnId);
        AppendField(h, State);
        h.AppendData("|"u8);
        if (Timestamp.IsString && Timestamp.Length <= MaxTimestampBytes)
        {
            h.AppendData(body.Slice(Timestamp.ValueStart, Timestamp.Length));
        }

        h.AppendData("|"u8);
        h.AppendData(bodyHash);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        h.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Human-readable cause for an exception record (no payload content beyond topic/trigger names).</summary>
    public string Describe() => Problem switch
    {
        EnvelopeProblem.EmptyBody => "Signed webhook with an empty body.",
        EnvelopeProblem.MalformedJson => "Signed webhook body is not well-formed JSON.",
        EnvelopeProblem.InvalidUtf8 => "Signed webhook body is not valid UTF-8 (JSON text must be UTF-8).",
        EnvelopeProblem.InvalidText => "Signed webhook body has a string whose escapes are not valid Unicode (e.g. a lone \\ud800).",
        EnvelopeProblem.NotAnObject => "Signed webhook body is JSON but not an object.",
        EnvelopeProblem.MissingTrigger => $"Signed webhook has no trigger (topic '{Topic ?? "none"}').",
        EnvelopeProblem.UnknownTrigger => $"Signed webhook has a trigger this integration does not route: '{Trigger}' (topic '{Topic ?? "none"}').",
        EnvelopeProblem.ParkedTrigger => $"Signed webhook '{Trigger}' (topic '{Topic ?? "none"}') is parked by design: {Route?.Purpose}.",
        EnvelopeProblem.MissingReturnId => $"Signed webhook '{Trigger}' carries no usable Loop return id.",
        _ => "Routable.",
    };

    internal void ComputeBodyFingerprint(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        var idNeedsQuotes = IdToken.IsCanonicalisableNumber;
        var returnIdNeedsQuotes = ReturnIdToken.IsCanonicalisableNumber;
        if (!idNeedsQuotes && !returnIdNeedsQuotes)
        {
            SHA256.HashData(body, destination);
            return;
        }

        var first = idNeedsQuotes ? IdToken : ReturnIdToken;
        var second = idNeedsQuotes && returnIdNeedsQuotes ? ReturnIdToken : default;
        if (second.IsPresent && second.ValueStart < first.ValueStart)
        {
            (first, second) = (second, first);
        }

        var h = Hashers.Sha256;
        var position = 0;
        foreach (var token in (ReadOnlySpan<TokenRange>)[first, second])
        {
            if (!token.IsPresent)
            {
                continue;
            }

            h.AppendData(body[position..token.ValueStart]);
            h.AppendData("\""u8);
            h.AppendData(body.Slice(token.ValueStart, token.Length));
            h.AppendData("\""u8);
            position = token.ValueStart + token.Length;
        }

        h.AppendData(body[position..]);
        h.GetHashAndReset(destination);
    }

    /// <summary>
    /// The return id token by the trigger's <see cref="ReturnIdField"/>. Return events: <c>id</c>. Gift card and
    /// return-processing events: <c>return_id</c> only (a gift card's <c>id</c> is the gift card, and may be null).
    /// Restock: Loop documents <c>id</c> as the return id and sends no <c>return_id</c>, but a <c>return_id</c> wins if
    /// it ever appears. Label events come both ways in published samples, so <c>return_id</c> then <c>id</c>.
    /// </summary>
    private static TokenRange ChooseReturnIdToken(ReturnIdField field, TokenRange id, TokenRange returnId) => field switch
    {
        ReturnIdField.Id => id,
        ReturnIdField.ReturnId => returnId,
        _ => returnId.IsIdentifierCandidate ? returnId : id,
    };

    private static TokenRange FirstString(TokenRange a, TokenRange b, TokenRange c) =>
        a.IsString ? a : b.IsString ? b : c.IsString ? c : default;

    private static void AppendField(IncrementalHash h, string? value)
    {
        h.AppendData("|"u8);
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        // Fields are short (validated ids, known names capped at 100 chars): encode on the stack.
        Span<byte> buffer = stackalloc byte[512];
        var written = Encoding.UTF8.GetBytes(value.AsSpan(0, Math.Min(value.Length, 128)), buffer);
        h.AppendData(buffer[..written]);
    }

    private static string? ReadKnownOrCopy(ref Utf8JsonReader reader, string[] known, int maxChars)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        if (!reader.ValueIsEscaped)
        {
            var raw = reader.ValueSpan;
            foreach (var candidate in known)
            {
                if (raw.Length == candidate.Length && Ascii.Equals(raw, candidate))
                {
                    return candidate;
                }
            }
        }

        return Printable(reader.GetString()!, maxChars);
    }

    /// <summary>
    /// An unknown value as it may travel on: message properties, exception messages and table columns. Control
    /// characters become U+FFFD and a cut never splits a surrogate pair, so no writer downstream can refuse it.
    /// </summary>
    private static string Printable(string value, int maxChars)
    {
        var length = Math.Min(value.Length, maxChars);
        if (length < value.Length && length > 0 && char.IsHighSurrogate(value[length - 1]))
        {
            length--;
        }

        var kept = value.AsSpan(0, length);
        var clean = true;
        foreach (var c in kept)
        {
            clean &= !char.IsControl(c);
        }

        if (clean)
        {
            return length == value.Length ? value : kept.ToString();
        }

        return string.Create(length, value, static (destination, source) =>
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = char.IsControl(source[i]) ? '\uFFFD' : source[i];
            }
        });
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when an escaped string or name does not decode to valid UTF-16.</summary>
    private static void EnsureDecodes(ref Utf8JsonReader reader)
    {
        // Unescaping never makes more UTF-16 units than there are bytes; property names and values are rarely escaped.
        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, reader.ValueSpan.Length));
        try
        {
            reader.CopyString(buffer);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static Field Classify(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("topic"u8)) return Field.Topic;
        if (reader.ValueTextEquals("trigger"u8)) return Field.Trigger;
        if (reader.ValueTextEquals("id"u8)) return Field.Id;
        if (reader.ValueTextEquals("return_id"u8)) return Field.ReturnId;
        if (reader.ValueTextEquals("state"u8)) return Field.State;
        if (reader.ValueTextEquals("return_state"u8)) return Field.ReturnState;
        if (reader.ValueTextEquals("edited_at"u8)) return Field.EditedAt;
        if (reader.ValueTextEquals("updated_at"u8)) return Field.UpdatedAt;
        if (reader.ValueTextEquals("label_updated_at"u8)) return Field.LabelUpdatedAt;
        if (reader.ValueTextEquals("labels"u8)) return Field.Labels;
        return reader.ValueSpan.EndsWith("_at"u8) ? Field.OtherTime : Field.Other;
    }

    private static WebhookEnvelope Failed(EnvelopeProblem problem) => new(problem, null, null, null, null, default, default, default);

    private enum Field
    {
        Other,
        Topic,
        Trigger,
        Id,
        ReturnId,
        State,
        ReturnState,
        EditedAt,
        UpdatedAt,
        LabelUpdatedAt,
        OtherTime,
        Labels,
    }
}
