using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Why a signed event could not be routed.</summary>
internal enum EnvelopeProblem
{
    None,
    EmptyBody,
    MalformedJson,
    NotAnObject,
    MissingTrigger,
    UnknownTrigger,
    MissingReturnId,
}

/// <summary>
/// The few top-level fields of a Loop webhook that routing and de-duplication need, read with a forward-only
/// <see cref="Utf8JsonReader"/> pass over the raw bytes (which also proves the whole body is well-formed JSON).
/// Nothing else is materialised: the consumer deserialises the body later, off the request path.
/// </summary>
internal readonly struct WebhookEnvelope
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        // Loop's own published samples carry trailing commas; accept them rather than park every such event.
        AllowTrailingCommas = true,

        // Loop never sends comments, and allowing them puts the reader on its slower comment-aware path.
        CommentHandling = JsonCommentHandling.Disallow,
    };

    private static readonly string[] KnownTriggers =
    [
        "return.created", "return.updated", "return.closed", "return.processing.failed",
        "label.created", "label.updated", "label.request.issued", "label.request.cancelled",
        "restock.requested", "giftcard.requested", "shipment.processed",
    ];

    private static readonly string[] KnownTopics =
        ["return", "label", "restock", "giftcard", "label.request", "return.processing", "happy.returns.shipment"];

    private static readonly string[] KnownStates = ["open", "closed", "cancelled", "expired", "review", "needs review"];

    private const int MaxFreeTextChars = 100;
    private const int MaxReturnIdChars = 128;
    private const int MaxTimestampBytes = 64;

    private WebhookEnvelope(EnvelopeProblem problem, string? topic, string? trigger, string? returnId, string? state, TokenRange timestamp, TokenRange id, TokenRange returnIdToken)
    {
        Problem = problem;
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

    /// <summary>edited_at, else updated_at, else label_updated_at (raw value bytes).</summary>
    public TokenRange Timestamp { get; }

    public TokenRange IdToken { get; }

    public TokenRange ReturnIdToken { get; }

    public bool IsRoutable => Problem == EnvelopeProblem.None;

    /// <summary>Reads the envelope. Never throws for bad input: the problem is reported instead.</summary>
    public static WebhookEnvelope Parse(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Failed(EnvelopeProblem.EmptyBody);
        }

        string? topic = null, trigger = null, state = null, returnState = null;
        TokenRange id = default, returnId = default, editedAt = default, updatedAt = default, labelUpdatedAt = default;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                // Still walk to the end so "[1,2" is reported as malformed rather than merely not an object.
                while (reader.Read())
                {
                }

                return Failed(EnvelopeProblem.NotAnObject);
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    continue;
                }

                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                Field field = Classify(ref reader);
                reader.Read();
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                switch (field)
                {
                    case Field.Topic:
                        topic = ReadKnownOrCopy(ref reader, KnownTopics, MaxFreeTextChars);
                        break;
                    case Field.Trigger:
                        trigger = ReadKnownOrCopy(ref reader, KnownTriggers, MaxFreeTextChars);
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
                        break;
                    case Field.UpdatedAt:
                        updatedAt = TokenRange.FromScalar(ref reader);
                        break;
                    case Field.LabelUpdatedAt:
                        labelUpdatedAt = TokenRange.FromScalar(ref reader);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return Failed(EnvelopeProblem.MalformedJson);
        }

        state ??= returnState;
        TokenRange timestamp = FirstString(editedAt, updatedAt, labelUpdatedAt);

        if (trigger is null)
        {
            return new WebhookEnvelope(EnvelopeProblem.MissingTrigger, topic, null, null, state, timestamp, id, returnId);
        }

        if (!IsRoutableTrigger(trigger))
        {
            return new WebhookEnvelope(EnvelopeProblem.UnknownTrigger, topic, trigger, null, state, timestamp, id, returnId);
        }

        TokenRange chosen = ChooseReturnIdToken(trigger, id, returnId);
        string? normalised = chosen.TryGetIdentifier(body, MaxReturnIdChars);
        return normalised is null
            ? new WebhookEnvelope(EnvelopeProblem.MissingReturnId, topic, trigger, null, state, timestamp, id, returnId)
            : new WebhookEnvelope(EnvelopeProblem.None, topic, trigger, normalised, state, timestamp, id, returnId);
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

        IncrementalHash h = Hashers.Sha256;
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
        EnvelopeProblem.NotAnObject => "Signed webhook body is JSON but not an object.",
        EnvelopeProblem.MissingTrigger => $"Signed webhook has no trigger (topic '{Topic ?? "none"}').",
        EnvelopeProblem.UnknownTrigger => $"Signed webhook has a trigger this integration does not route: '{Trigger}' (topic '{Topic ?? "none"}').",
        EnvelopeProblem.MissingReturnId => $"Signed webhook '{Trigger}' carries no usable Loop return id.",
        _ => "Routable.",
    };

    internal void ComputeBodyFingerprint(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        bool idNeedsQuotes = IdToken.IsCanonicalisableNumber;
        bool returnIdNeedsQuotes = ReturnIdToken.IsCanonicalisableNumber;
        if (!idNeedsQuotes && !returnIdNeedsQuotes)
        {
            SHA256.HashData(body, destination);
            return;
        }

        TokenRange first = idNeedsQuotes ? IdToken : ReturnIdToken;
        TokenRange second = idNeedsQuotes && returnIdNeedsQuotes ? ReturnIdToken : default;
        if (second.IsPresent && second.ValueStart < first.ValueStart)
        {
            (first, second) = (second, first);
        }

        IncrementalHash h = Hashers.Sha256;
        int position = 0;
        foreach (TokenRange token in (ReadOnlySpan<TokenRange>)[first, second])
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

    private static bool IsRoutableTrigger(string trigger) =>
        trigger.StartsWith("return.", StringComparison.Ordinal)
        || trigger.StartsWith("label.", StringComparison.Ordinal)
        || trigger is "restock.requested" or "giftcard.requested";

    /// <summary>
    /// Which field is the Loop return id. Return events: <c>id</c>. Gift card and return-processing events:
    /// <c>return_id</c> only (a gift card's <c>id</c> is the gift card, and may be null). Restock: Loop documents
    /// <c>id</c> as the return id and sends no <c>return_id</c>, but a <c>return_id</c> wins if it ever appears.
    /// Label events come both ways in published samples (<c>return_id</c>, or <c>id</c>), so <c>return_id</c> then <c>id</c>.
    /// </summary>
    private static TokenRange ChooseReturnIdToken(string trigger, TokenRange id, TokenRange returnId)
    {
        if (trigger is "return.created" or "return.updated" or "return.closed")
        {
            return id;
        }

        if (trigger.StartsWith("giftcard.", StringComparison.Ordinal) || trigger.StartsWith("return.", StringComparison.Ordinal))
        {
            return returnId;
        }

        return returnId.IsIdentifierCandidate ? returnId : id;
    }

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
        int written = Encoding.UTF8.GetBytes(value.AsSpan(0, Math.Min(value.Length, 128)), buffer);
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
            ReadOnlySpan<byte> raw = reader.ValueSpan;
            foreach (string candidate in known)
            {
                if (raw.Length == candidate.Length && Ascii.Equals(raw, candidate))
                {
                    return candidate;
                }
            }
        }

        string value = reader.GetString()!;
        return value.Length <= maxChars ? value : value[..maxChars];
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
        return Field.Other;
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
    }

    /// <summary>Where a scalar value sits in the body (offsets of the value itself, without quotes).</summary>
    internal readonly struct TokenRange
    {
        private TokenRange(int valueStart, int length, JsonTokenType type, bool escaped)
        {
            ValueStart = valueStart;
            Length = length;
            Type = type;
            Escaped = escaped;
        }

        public int ValueStart { get; }

        public int Length { get; }

        public JsonTokenType Type { get; }

        public bool Escaped { get; }

        public bool IsPresent => Type != JsonTokenType.None;

        public bool IsString => Type == JsonTokenType.String && !Escaped;

        public bool IsIdentifierCandidate => (Type == JsonTokenType.Number || IsString) && Length > 0;

        public bool IsCanonicalisableNumber => Type == JsonTokenType.Number && Length is > 0 and <= MaxReturnIdChars;

        public static TokenRange FromScalar(ref Utf8JsonReader reader)
        {
            int start = (int)reader.TokenStartIndex;
            return reader.TokenType switch
            {
                // TokenStartIndex points at the opening quote.
                JsonTokenType.String => new TokenRange(start + 1, reader.ValueSpan.Length, JsonTokenType.String, reader.ValueIsEscaped),
                JsonTokenType.Number => new TokenRange(start, reader.ValueSpan.Length, JsonTokenType.Number, false),
                _ => default,
            };
        }

        /// <summary>The value as an id (ASCII letters, digits, '-', '_'; integers only for numbers), or null.</summary>
        public string? TryGetIdentifier(ReadOnlySpan<byte> body, int maxChars)
        {
            if (!IsIdentifierCandidate || Length > maxChars)
            {
                return null;
            }

            ReadOnlySpan<byte> value = body.Slice(ValueStart, Length);
            foreach (byte b in value)
            {
                bool ok = Type == JsonTokenType.Number
                    ? b is >= (byte)'0' and <= (byte)'9'
                    : b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'-' or (byte)'_';
                if (!ok)
                {
                    return null;
                }
            }

            return Encoding.ASCII.GetString(value);
        }
    }

    /// <summary>One reusable incremental hasher per thread: hashing in pieces without a per-call allocation.</summary>
    private static class Hashers
    {
        [ThreadStatic]
        private static IncrementalHash? sha256;

        public static IncrementalHash Sha256 => sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }
}
