using System.Globalization;
using System.Text;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Reversible escaping of PartitionKey/RowKey values. Table Storage forbids <c>/ \ # ?</c> and control characters in
/// keys, and <c>%</c> and <c>'</c> break URL addressing of an entity on some servers; real SKUs contain such characters.
/// Each of those (and the escape character <c>~</c> itself) becomes <c>~XX</c> (two upper-case hex digits); every
/// other character, including ':' and non-ASCII letters, is kept, so keys stay readable and prefix order survives.
/// </summary>
public static class TableKey
{
    private const char EscapeChar = '~';

    /// <summary>The escaped form that is stored. Escaping is per character, so Escape(prefix) is a prefix of Escape(key).</summary>
    public static string Escape(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var first = IndexOfEscapable(raw);
        if (first < 0)
        {
            return raw;
        }

        var sb = new StringBuilder(raw.Length + 8);
        sb.Append(raw, 0, first);
        for (var i = first; i < raw.Length; i++)
        {
            var c = raw[i];
            if (NeedsEscape(c))
            {
                sb.Append(EscapeChar).Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Inverse of <see cref="Escape"/>. A '~' not followed by two hex digits is kept as is.</summary>
    public static string Unescape(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var first = stored.IndexOf(EscapeChar, StringComparison.Ordinal);
        if (first < 0)
        {
            return stored;
        }

        var sb = new StringBuilder(stored.Length);
        sb.Append(stored, 0, first);
        for (var i = first; i < stored.Length; i++)
        {
            var c = stored[i];
            if (c == EscapeChar && i + 2 < stored.Length
                && int.TryParse(stored.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                sb.Append((char)code);
                i += 2;
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c < 0x20 || (c >= 0x7F && c <= 0x9F) || c is '/' or '\\' or '#' or '?' or '%' or '\'' or EscapeChar;

    private static int IndexOfEscapable(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (NeedsEscape(s[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
