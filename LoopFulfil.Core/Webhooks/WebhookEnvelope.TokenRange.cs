using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Where the envelope's scalars sit in the body, and the hasher the message id is computed with.</summary>
internal readonly partial struct WebhookEnvelope
{
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
            var start = (int)reader.TokenStartIndex;
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

            var value = body.Slice(ValueStart, Length);
            foreach (var b in value)
            {
                var ok = Type == JsonTokenType.Number
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
        private static IncrementalHash? s_sha256;

        public static IncrementalHash Sha256 => s_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }
}
