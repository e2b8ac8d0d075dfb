using System.Globalization;
using System.Text;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// A seeded mutator of sample-shaped Loop webhook bodies: the same seed gives the same bodies, so a failing case
/// can be replayed by its index. Each case is a sample (the webhook fixtures, with a fresh return id) with one
/// kind of damage, or none.
/// </summary>
internal sealed class WebhookMutator(int seed)
{
    /// <summary>Kinds of damage, picked in turn so every kind is exercised about equally often.</summary>
    public static readonly string[] Kinds =
    [
        "intact", "byte-flip", "truncate", "invalid-utf8", "lone-surrogate-escape", "huge-number", "deep-nesting",
        "wrong-type", "duplicate-key", "bom", "empty", "control-char", "trailing-garbage", "unknown-trigger", "inflate",
    ];

    private static readonly string[] FixtureNames =
    [
        "return-created.json", "restock-requested.json", "label-updated-id.json", "label-updated-return-id.json",
        "return-processing-failed.json", "giftcard-requested-trailing-comma.json",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xC3, 0x28], [0xFF], [0xFE, 0xFE], [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    private static readonly string[] Escapes = ["\\ud800", "\\udc00", "\\ud800\\ud800", "x\\udfff", "\\u0000", "\\u001f"];

    private static readonly string[] HugeNumbers =
    [
        "1e999", "-1e999", "123456789012345678901234567890", new string('9', 400), "1.7976931348623157e309", "-0", "0.0000000000000000000000001",
    ];

    private static readonly string[] WrongValues = ["true", "null", "[]", "{}", "12.5", "\"\"", "[1,2,3]", "{\"id\":1}", "\"   \""];

    private static readonly string[] TopLevelKeys = ["\"id\"", "\"return_id\"", "\"trigger\"", "\"topic\"", "\"state\"", "\"edited_at\"", "\"line_items\""];

    private readonly Random _random = new(seed);
    private readonly string[] _samples = [.. FixtureNames.Select(n => Encoding.UTF8.GetString(WebhookTestKit.Fixture(n)))];
    private long _nextId = 9_100_000_000;

    /// <summary>Case <paramref name="index"/>: its kind and body.</summary>
    public (string Kind, byte[] Body) Next(int index)
    {
        var kind = Kinds[index % Kinds.Length];
        var sample = WithFreshIds(_samples[_random.Next(_samples.Length)]);
        return (kind, Mutate(kind, sample));
    }

    private byte[] Mutate(string kind, string sample)
    {
        var bytes = Encoding.UTF8.GetBytes(sample);
        return kind switch
        {
            "intact" => bytes,
            "byte-flip" => FlipBytes(bytes),
            "truncate" => bytes[.._random.Next(bytes.Length)],
            "invalid-utf8" => InsertIntoString(bytes, InvalidUtf8[_random.Next(InvalidUtf8.Length)]),
            "lone-surrogate-escape" => Encoding.UTF8.GetBytes(ReplaceValue(sample, $"\"{Escapes[_random.Next(Escapes.Length)]}\"")),
            "huge-number" => Encoding.UTF8.GetBytes(ReplaceValue(sample, HugeNumbers[_random.Next(HugeNumbers.Length)])),
            "deep-nesting" => Encoding.UTF8.GetBytes(ReplaceValue(sample, Nest(_random.Next(2) == 0 ? _random.Next(60, 70) : _random.Next(100, 3000)))),
            "wrong-type" => Encoding.UTF8.GetBytes(ReplaceValue(sample, WrongValues[_random.Next(WrongValues.Length)])),
            "duplicate-key" => Encoding.UTF8.GetBytes(AddDuplicate(sample)),
            "bom" => Bom(bytes),
            "empty" => _random.Next(3) switch { 0 => [], 1 => " \r\n\t "u8.ToArray(), _ => "null"u8.ToArray() },
            "control-char" => InsertIntoString(bytes, [(byte)_random.Next(0, 0x20)]),
            "trailing-garbage" => [.. bytes, .. Encoding.UTF8.GetBytes(_random.Next(2) == 0 ? "}" : " {\"a\":1}")],
            "unknown-trigger" => Encoding.UTF8.GetBytes(ReplaceValueOf(sample, "\"trigger\"", $"\"{UnknownTrigger()}\"")),
            "inflate" => Encoding.UTF8.GetBytes(Inflate(sample)),
            _ => throw new InvalidOperationException(kind),
        };
    }

    /// <summary>Gives the sample's top-level ids a value no other case uses, so routed cases spread over returns.</summary>
    private string WithFreshIds(string sample)
    {
        var id = (_nextId++).ToString(CultureInfo.InvariantCulture);
        foreach (var key in (string[])["\"id\"", "\"return_id\""])
        {
            sample = ReplaceValueOf(sample, key, $"\"{id}\"");
        }

        return sample;
    }

    private byte[] FlipBytes(byte[] bytes)
    {
        byte[] copy = [.. bytes];
        for (var i = _random.Next(1, 9); i > 0; i--)
        {
            copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
        }

        return copy;
    }

    /// <summary>Puts <paramref name="junk"/> just inside the opening quote of a random string value or name.</summary>
    private byte[] InsertIntoString(byte[] bytes, byte[] junk)
    {
        int[] quotes = [.. Enumerable.Range(0, bytes.Length).Where(i => bytes[i] == (byte)'"')];
        var at = quotes.Length == 0 ? 0 : quotes[_random.Next(quotes.Length)] + 1;
        return [.. bytes[..at], .. junk, .. bytes[at..]];
    }

    /// <summary>Replaces the value of a random top-level key the sample has with <paramref name="value"/>.</summary>
    private string ReplaceValue(string sample, string value)
    {
        string[] present = [.. TopLevelKeys.Where(k => sample.Contains(k, StringComparison.Ordinal))];
        return ReplaceValueOf(sample, present[_random.Next(present.Length)], value);
    }

    /// <summary>Replaces the first value of <paramref name="key"/> (a scalar, or a whole array/object) with <paramref name="value"/>.</summary>
    private static string ReplaceValueOf(string sample, string key, string value)
    {
        var k = sample.IndexOf(key + ":", StringComparison.Ordinal);
        var colon = k < 0 ? sample.IndexOf(key + " :", StringComparison.Ordinal) : k;
        if (colon < 0)
        {
            return sample;
        }

        var start = sample.IndexOf(':', colon) + 1;
        while (char.IsWhiteSpace(sample[start]))
        {
            start++;
        }

        var end = EndOfValue(sample, start);
        return string.Concat(sample.AsSpan(0, start), value, sample.AsSpan(end));
    }

    private static int EndOfValue(string s, int start)
    {
        if (s[start] == '"')
        {
            var i = start + 1;
            while (s[i] != '"')
            {
                i += s[i] == '\\' ? 2 : 1;
            }

            return i + 1;
        }

        if (s[start] is '[' or '{')
        {
            var depth = 0;
            var inString = false;
            for (var i = start; i < s.Length; i++)
            {
                var c = s[i];
                if (inString)
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        inString = false;
                    }
                }
                else if (c == '"')
                {
                    inString = true;
                }
                else if (c is '[' or '{')
                {
                    depth++;
                }
                else if (c is ']' or '}' && --depth == 0)
                {
                    return i + 1;
                }
            }

            return s.Length;
        }

        var end = start;
        while (end < s.Length && s[end] is not (',' or '}' or '\n' or '\r' or ' '))
        {
            end++;
        }

        return end;
    }

    private string Nest(int depth)
    {
        var arrays = _random.Next(2) == 0;
        var sb = new StringBuilder(depth * 8);
        for (var i = 0; i < depth; i++)
        {
            sb.Append(arrays ? "[" : "{\"a\":");
        }

        sb.Append('1');
        for (var i = 0; i < depth; i++)
        {
            sb.Append(arrays ? ']' : '}');
        }

        return sb.ToString();
    }

    private string AddDuplicate(string sample)
    {
        var close = sample.LastIndexOf('}');
        var extra = _random.Next(4) switch
        {
            0 => "\"trigger\":\"return.closed\"",
            1 => "\"id\":\"" + (_nextId++).ToString(CultureInfo.InvariantCulture) + "\"",
            2 => "\"return_id\":null",
            _ => "\"state\":\"cancelled\"",
        };

        // Before the first key as well as after the last, so first-wins and last-wins readers disagree.
        return _random.Next(2) == 0
            ? string.Concat(sample.AsSpan(0, close), ",", extra, sample.AsSpan(close))
            : string.Concat("{", extra, ",", sample.AsSpan(sample.IndexOf('{', StringComparison.Ordinal) + 1));
    }

    private byte[] Bom(byte[] bytes) => _random.Next(3) switch
    {
        0 => [0xEF, 0xBB, 0xBF, .. bytes],
        1 => [0xFF, 0xFE, .. bytes],
        _ => [.. bytes[..(bytes.Length / 2)], 0xEF, 0xBB, 0xBF, .. bytes[(bytes.Length / 2)..]],
    };

    private string UnknownTrigger() => _random.Next(4) switch
    {
        0 => "return.exploded",
        1 => "shipment.processed",
        2 => new string('r', _random.Next(200, 5000)),
        _ => "return.created\\u0001\\u00e9",
    };

    /// <summary>A long note (40–200 KB), so the body travels claim-checked past the local queue's 48 KiB envelope.</summary>
    private string Inflate(string sample)
    {
        var close = sample.LastIndexOf('}');
        return $"{sample[..close]},\"note\":\"{new string('n', _random.Next(40_000, 200_000))}\"{sample[close..]}";
    }
}
