using System.Globalization;

namespace LoopFulfil.Core.Scheduling;

/// <summary>
/// A six-field NCRONTAB expression, the format of Azure Functions timer triggers:
/// <c>{second} {minute} {hour} {day} {month} {day-of-week}</c>.
/// </summary>
/// <remarks>
/// <para>Each field takes <c>*</c>, a value, a range <c>a-b</c>, a step <c>*/n</c>, <c>a-b/n</c> or <c>a/n</c> (from
/// <c>a</c> to the field's maximum), and comma-separated lists of those. Months take <c>JAN</c>–<c>DEC</c> and days of
/// the week <c>SUN</c>–<c>SAT</c> (case-insensitive); day of week 0 and 7 are both Sunday.</para>
/// <para>Day of month and day of week must both match (NCRONTAB intersects them, unlike Vixie cron's union), so
/// <c>0 0 9 13 * FRI</c> is every Friday the 13th.</para>
/// <para>Occurrences are computed in UTC. The Functions host also evaluates schedules in UTC unless the app setting
/// <c>WEBSITE_TIME_ZONE</c> is set; LoopFulfil never sets it, so one expression means the same instant in Azure and
/// on the single-machine host, and nothing shifts at daylight-saving changes.</para>
/// </remarks>
public sealed class CronExpression
{
    private static readonly string[] FieldNames = ["second", "minute", "hour", "day", "month", "day-of-week"];

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    // A schedule that matches at all matches within one 400-year Gregorian cycle; Feb 29 on a given weekday recurs
    // within 40 years, so this bound is only a guard against a defect, never a limit a valid schedule reaches.
    private const int MaxYearsAhead = 400;

    private readonly ulong _seconds;
    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _days;
    private readonly ulong _months;
    private readonly ulong _daysOfWeek;

    private CronExpression(string expression, ulong[] fields)
    {
        Expression = expression;
        _seconds = fields[0];
        _minutes = fields[1];
        _hours = fields[2];
        _days = fields[3];
        _months = fields[4];
        _daysOfWeek = fields[5];
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses an expression.</summary>
    /// <exception cref="FormatException">The expression is malformed; the message names the offending field.</exception>
    public static CronExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return TryParseCore(expression, out var result, out var error) ? result! : throw new FormatException(error);
    }

    /// <summary>Parses an expression, reporting why it is invalid instead of throwing.</summary>
    public static bool TryParse(string? expression, out CronExpression? result, out string? error)
    {
        if (expression is null)
        {
            result = null;
            error = "The cron expression is null.";
            return false;
        }

        return TryParseCore(expression, out result, out error);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in UTC (offset zero).</summary>
    public DateTimeOffset GetNextOccurrence(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;

        // Whole seconds only: the next candidate is the next whole second after the given instant.
        var t = new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc).AddSeconds(1);
        var limitYear = t.Year + MaxYearsAhead;

        while (t.Year <= limitYear)
        {
            if (!Has(_months, t.Month))
            {
                var month = NextSet(_months, t.Month + 1, 12);
                t = month > 0
                    ? new DateTime(t.Year, month, 1, 0, 0, 0, DateTimeKind.Utc)
                    : new DateTime(t.Year + 1, NextSet(_months, 1, 12), 1, 0, 0, 0, DateTimeKind.Utc);
                continue;
            }

            if (!Has(_days, t.Day) || !Has(_daysOfWeek, (int)t.DayOfWeek))
            {
                t = t.Date.AddDays(1);
                continue;
            }

            if (!Has(_hours, t.Hour))
            {
                var hour = NextSet(_hours, t.Hour + 1, 23);
                t = hour >= 0 ? t.Date.AddHours(hour) : t.Date.AddDays(1);
                continue;
            }

            if (!Has(_minutes, t.Minute))
            {
                var minute = NextSet(_minutes, t.Minute + 1, 59);
                var hourStart = t.Date.AddHours(t.Hour);
                t = minute >= 0 ? hourStart.AddMinutes(minute) : hourStart.AddHours(1);
                continue;
            }

            if (!Has(_seconds, t.Second))
            {
                var second = NextSet(_seconds, t.Second + 1, 59);
                var minuteStart = t.Date.AddHours(t.Hour).AddMinutes(t.Minute);
                t = second >= 0 ? minuteStart.AddSeconds(second) : minuteStart.AddMinutes(1);
                continue;
            }

            return new DateTimeOffset(t, TimeSpan.Zero);
        }

        throw new InvalidOperationException($"The cron expression '{Expression}' has no occurrence within {MaxYearsAhead} years.");
    }

    public override string ToString() => Expression;

    private static bool Has(ulong set, int value) => (set & (1UL << value)) != 0;

    /// <returns>The smallest member of <paramref name="set"/> in [from, max], or -1.</returns>
    private static int NextSet(ulong set, int from, int max)
    {
        for (var v = from; v <= max; v++)
        {
            if (Has(set, v))
            {
                return v;
            }
        }

        return -1;
    }

    private static bool TryParseCore(string expression, out CronExpression? result, out string? error)
    {
        result = null;
        var parts = expression.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6)
        {
            error = $"The cron expression '{expression}' has {parts.Length} field(s); NCRONTAB needs six: " +
                    "{second} {minute} {hour} {day} {month} {day-of-week}.";
            return false;
        }

        var fields = new ulong[6];
        (int Min, int Max, string[]? Names)[] specs =
        [
            (0, 59, null),
            (0, 59, null),
            (0, 23, null),
            (1, 31, null),
            (1, 12, MonthNames),
            (0, 7, DayNames),
        ];

        for (var i = 0; i < 6; i++)
        {
            if (!TryParseField(parts[i], specs[i].Min, specs[i].Max, specs[i].Names, out fields[i], out var reason))
            {
                error = $"The cron expression '{expression}' has an invalid {FieldNames[i]} field '{parts[i]}': {reason}";
                return false;
            }
        }

        // Sunday may be written 7; fold it onto 0 so DayOfWeek (Sunday = 0) matches it.
        if (Has(fields[5], 7))
        {
            fields[5] = (fields[5] & ~(1UL << 7)) | 1UL;
        }

        if (!AnyDayExists(fields[3], fields[4]))
        {
            error = $"The cron expression '{expression}' can never occur: no day in the day field exists in any month of the month field.";
            return false;
        }

        result = new CronExpression(expression, fields);
        error = null;
        return true;
    }

    private static bool AnyDayExists(ulong days, ulong months)
    {
        // February counts 29 days: a Feb 29 schedule is valid, it just waits for a leap year.
        ReadOnlySpan<int> longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (var month = 1; month <= 12; month++)
        {
            if (Has(months, month) && NextSet(days, 1, longest[month - 1]) > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseField(string field, int min, int max, string[]? names, out ulong set, out string? reason)
    {
        set = 0;
        foreach (var item in field.Split(','))
        {
            if (item.Length == 0)
            {
                reason = "empty list element.";
                return false;
            }

            var rangePart = item;
            var step = 1;
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                rangePart = item[..slash];
                var stepText = item[(slash + 1)..];
                if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
                {
                    reason = $"step '{stepText}' must be a positive whole number.";
                    return false;
                }
            }

            int from;
            int to;
            if (rangePart == "*")
            {
                from = min;
                to = max;
            }
            else
            {
                var dash = rangePart.IndexOf('-', StringComparison.Ordinal);
                if (dash >= 0)
                {
                    if (!TryParseValue(rangePart[..dash], min, max, names, out from, out reason) ||
                        !TryParseValue(rangePart[(dash + 1)..], min, max, names, out to, out reason))
                    {
                        return false;
                    }

                    if (to < from)
                    {
                        reason = $"range '{rangePart}' runs backwards.";
                        return false;
                    }
                }
                else
                {
                    if (!TryParseValue(rangePart, min, max, names, out from, out reason))
                    {
                        return false;
                    }

                    // "a/n" means every n-th value from a to the end of the field, as in NCRONTAB.
                    to = slash >= 0 ? max : from;
                }
            }

            for (var v = from; v <= to; v += step)
            {
                set |= 1UL << v;
            }
        }

        reason = null;
        return true;
    }

    private static bool TryParseValue(string text, int min, int max, string[]? names, out int value, out string? reason)
    {
        reason = null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            if (value < min || value > max)
            {
                reason = $"{value} is outside {min}-{max}.";
                return false;
            }

            return true;
        }

        if (names is not null)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (string.Equals(text, names[i], StringComparison.OrdinalIgnoreCase))
                {
                    // Month names start at 1 (JAN), day names at 0 (SUN): the field minimum is the first name's value.
                    value = i + min;
                    return true;
                }
            }

            reason = $"'{text}' is neither a number in {min}-{max} nor one of {string.Join(", ", names)}.";
            return false;
        }

        reason = $"'{text}' is not a number in {min}-{max}.";
        return false;
    }
}
