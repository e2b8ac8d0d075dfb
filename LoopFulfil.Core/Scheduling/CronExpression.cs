using NCrontab;

namespace LoopFulfil.Core.Scheduling;

/// <summary>
/// A six-field NCRONTAB expression, the format of Azure Functions timer triggers:
/// <c>{second} {minute} {hour} {day} {month} {day-of-week}</c>, parsed and evaluated by NCrontab, the library the
/// Functions host's timer extension uses, so one schedule string means the same on both hosts.
/// </summary>
/// <remarks>
/// <para>This type only fixes the options LoopFulfil uses everywhere: seconds included (as in the host), occurrences
/// in UTC (the host's default; LoopFulfil never sets <c>WEBSITE_TIME_ZONE</c>, so nothing shifts at daylight-saving
/// changes), and an expression that can never occur (say 30 February) rejected when it is read rather than
/// silently never firing.</para>
/// </remarks>
public sealed class CronExpression
{
    private static readonly CrontabSchedule.ParseOptions SixFields = new() { IncludingSeconds = true };

    // Any schedule that occurs at all occurs within one 400-year Gregorian cycle.
    private const int HorizonYears = 400;

    private static readonly DateTime ProbeStart = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly CrontabSchedule _schedule;

    private CronExpression(string expression, CrontabSchedule schedule)
    {
        Expression = expression;
        _schedule = schedule;
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses an expression.</summary>
    /// <exception cref="FormatException">The expression is malformed or can never occur.</exception>
    public static CronExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return TryParse(expression, out var result, out var error) ? result! : throw new FormatException(error);
    }

    /// <summary>Parses an expression, reporting why it is invalid instead of throwing.</summary>
    public static bool TryParse(string? expression, out CronExpression? result, out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = "The cron expression is empty; NCRONTAB needs six fields: {second} {minute} {hour} {day} {month} {day-of-week}.";
            return false;
        }

        CrontabSchedule? schedule;
        try
        {
            schedule = CrontabSchedule.Parse(expression, SixFields);
        }
        catch (CrontabException ex)
        {
            error = $"The cron expression '{expression}' is not a six-field NCRONTAB expression: {ex.Message}";
            return false;
        }

        var horizon = ProbeStart.AddYears(HorizonYears);
        if (schedule.GetNextOccurrence(ProbeStart, horizon) >= horizon)
        {
            error = $"The cron expression '{expression}' can never occur: no day it selects exists in the months it selects.";
            return false;
        }

        result = new CronExpression(expression, schedule);
        error = null;
        return true;
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in UTC (offset zero).</summary>
    public DateTimeOffset GetNextOccurrence(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;
        var horizon = utc.AddYears(HorizonYears);
        var next = _schedule.GetNextOccurrence(utc, horizon);
        return next < horizon
            ? new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc), TimeSpan.Zero)
            : throw new InvalidOperationException($"The cron expression '{Expression}' has no occurrence within {HorizonYears} years.");
    }

    public override string ToString() => Expression;
}
