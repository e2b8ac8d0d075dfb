using System.Globalization;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Builds OData <c>$filter</c> expressions for <see cref="ITableStore.QueryAsync"/> without string-concatenation
/// bugs: literals are typed and quoted ('' for '), and values compared with PartitionKey/RowKey are escaped with
/// <see cref="TableKey.Escape"/> so callers always pass raw keys.
/// </summary>
public static class TableFilter
{
    public static string PartitionKeyEquals(string partitionKey) => Equal("PartitionKey", partitionKey);

    public static string RowKeyEquals(string rowKey) => Equal("RowKey", rowKey);

    /// <summary>Row keys starting with <paramref name="prefix"/> (a range, which the service can serve from its index).</summary>
    public static string RowKeyStartsWith(string prefix) => StartsWith("RowKey", prefix);

    public static string PartitionKeyStartsWith(string prefix) => StartsWith("PartitionKey", prefix);

    public static string Equal(string property, object value) => Compare(property, "eq", value);

    public static string NotEqual(string property, object value) => Compare(property, "ne", value);

    public static string GreaterThan(string property, object value) => Compare(property, "gt", value);

    public static string GreaterThanOrEqual(string property, object value) => Compare(property, "ge", value);

    public static string LessThan(string property, object value) => Compare(property, "lt", value);

    public static string LessThanOrEqual(string property, object value) => Compare(property, "le", value);

    public static string And(params string[] filters) => Combine("and", filters);

    public static string Or(params string[] filters) => Combine("or", filters);

    public static string Not(string filter) => $"not ({filter})";

    /// <summary>
    /// An OData literal: strings (and decimals, which are stored as strings) quoted, Int64 with the L suffix,
    /// DateTimeOffset as datetime'...' (UTC), Guid as guid'...', binary as X'..'.
    /// </summary>
    public static string Literal(object value) => value switch
    {
        null => throw new ArgumentNullException(nameof(value), "Table Storage has no null: filter on absence differently."),
        string s => Quote(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        decimal m => Quote(m.ToString(CultureInfo.InvariantCulture)),
        DateTimeOffset dto => $"datetime'{FormatDateTime(dto)}'",
        DateTime dt => $"datetime'{FormatDateTime(TableEntityConversion.ToUtc(dt))}'",
        Guid g => $"guid'{g:D}'",
        byte[] bytes => $"X'{Convert.ToHexString(bytes)}'",
        _ => throw new ArgumentException($"Type {value.GetType().Name} cannot be used in a table filter.", nameof(value)),
    };

    private static string Compare(string property, string op, object value)
    {
        ValidateProperty(property);
        if (value is string s && property is "PartitionKey" or "RowKey")
        {
            value = TableKey.Escape(s);
        }

        return $"{property} {op} {Literal(value)}";
    }

    private static string StartsWith(string property, string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var escaped = TableKey.Escape(prefix);
        if (escaped.Length == 0)
        {
            return $"{property} ge ''";
        }

        var last = escaped[^1];
        var upper = last == char.MaxValue ? escaped + char.MaxValue : escaped[..^1] + (char)(last + 1);
        return $"{property} ge {Quote(escaped)} and {property} lt {Quote(upper)}";
    }

    private static string Combine(string op, string[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var parts = filters.Where(f => !string.IsNullOrWhiteSpace(f)).ToArray();
        return parts.Length switch
        {
            0 => throw new ArgumentException("At least one filter is needed.", nameof(filters)),
            1 => parts[0],
            _ => string.Join($" {op} ", parts.Select(p => $"({p})")),
        };
    }

    private static string FormatDateTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void ValidateProperty(string property)
    {
        ArgumentException.ThrowIfNullOrEmpty(property);
        foreach (var c in property)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                throw new ArgumentException($"'{property}' is not a valid table property name.", nameof(property));
            }
        }
    }
}
