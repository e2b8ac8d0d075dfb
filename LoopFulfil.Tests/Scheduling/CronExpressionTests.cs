using LoopFulfil.Core.Scheduling;

namespace LoopFulfil.Tests.Scheduling;

public class CronExpressionTests
{
    private static DateTimeOffset Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) =>
        new(y, mo, d, h, mi, s, TimeSpan.Zero);

    private static DateTimeOffset[] Occurrences(string expression, DateTimeOffset after, int count)
    {
        var cron = CronExpression.Parse(expression);
        var result = new DateTimeOffset[count];
        var t = after;
        for (var i = 0; i < count; i++)
        {
            t = cron.GetNextOccurrence(t);
            result[i] = t;
        }

        return result;
    }

    [Fact]
    public void Every_five_minutes_fires_on_the_five_minute_marks_at_second_zero()
    {
        var next = Occurrences("0 */5 * * * *", Utc(2026, 3, 10, 14, 2, 17), 4);

        Assert.Equal([Utc(2026, 3, 10, 14, 5), Utc(2026, 3, 10, 14, 10), Utc(2026, 3, 10, 14, 15), Utc(2026, 3, 10, 14, 20)], next);
    }

    [Fact]
    public void Next_occurrence_is_strictly_after_the_given_instant()
    {
        var cron = CronExpression.Parse("0 */5 * * * *");

        Assert.Equal(Utc(2026, 3, 10, 14, 10), cron.GetNextOccurrence(Utc(2026, 3, 10, 14, 5)));
        Assert.Equal(Utc(2026, 3, 10, 14, 5), cron.GetNextOccurrence(Utc(2026, 3, 10, 14, 4, 59).AddMilliseconds(999)));
    }

    [Fact]
    public void Five_minute_schedule_rolls_over_hour_day_month_and_year()
    {
        Assert.Equal(Utc(2027, 1, 1), CronExpression.Parse("0 */5 * * * *").GetNextOccurrence(Utc(2026, 12, 31, 23, 55)));
    }

    [Fact]
    public void Weekday_morning_schedule_skips_the_weekend()
    {
        // 2026-03-13 is a Friday.
        var next = Occurrences("0 30 9 * * 1-5", Utc(2026, 3, 13, 9, 30), 3);

        Assert.Equal([Utc(2026, 3, 16, 9, 30), Utc(2026, 3, 17, 9, 30), Utc(2026, 3, 18, 9, 30)], next);
        Assert.All(next, t => Assert.InRange((int)t.DayOfWeek, 1, 5));
    }

    [Fact]
    public void Weekday_morning_schedule_fires_later_the_same_day_when_before_the_time()
    {
        Assert.Equal(Utc(2026, 3, 16, 9, 30), CronExpression.Parse("0 30 9 * * 1-5").GetNextOccurrence(Utc(2026, 3, 16, 9, 29, 59)));
    }

    [Fact]
    public void Nightly_two_am_schedule_fires_once_a_day()
    {
        var next = Occurrences("0 0 2 * * *", Utc(2026, 2, 27, 2, 0, 1), 3);

        Assert.Equal([Utc(2026, 2, 28, 2), Utc(2026, 3, 1, 2), Utc(2026, 3, 2, 2)], next);
    }

    [Fact]
    public void Day_thirty_one_skips_months_that_are_shorter()
    {
        var next = Occurrences("0 0 0 31 * *", Utc(2026, 1, 31, 0, 0, 1), 4);

        Assert.Equal([Utc(2026, 3, 31), Utc(2026, 5, 31), Utc(2026, 7, 31), Utc(2026, 8, 31)], next);
    }

    [Fact]
    public void February_twenty_ninth_waits_for_the_next_leap_year()
    {
        Assert.Equal(Utc(2028, 2, 29, 12), CronExpression.Parse("0 0 12 29 2 *").GetNextOccurrence(Utc(2026, 5, 1)));
        Assert.Equal(Utc(2032, 2, 29, 12), CronExpression.Parse("0 0 12 29 FEB *").GetNextOccurrence(Utc(2028, 2, 29, 12)));
    }

    [Fact]
    public void February_twenty_ninth_skips_the_century_year_that_is_not_leap()
    {
        Assert.Equal(Utc(2104, 2, 29), CronExpression.Parse("0 0 0 29 2 *").GetNextOccurrence(Utc(2096, 3, 1)));
    }

    [Fact]
    public void Day_of_month_and_day_of_week_must_both_match()
    {
        // Friday the 13th: 2026-02-13, then 2026-03-13, then 2026-11-13.
        var next = Occurrences("0 0 9 13 * FRI", Utc(2026, 1, 1), 3);

        Assert.Equal([Utc(2026, 2, 13, 9), Utc(2026, 3, 13, 9), Utc(2026, 11, 13, 9)], next);
    }

    [Fact]
    public void Step_over_a_range_takes_every_nth_value_inside_the_range()
    {
        var next = Occurrences("0 10-30/10 8-17/4 * * *", Utc(2026, 6, 1), 7);

        Assert.Equal(
            [Utc(2026, 6, 1, 8, 10), Utc(2026, 6, 1, 8, 20), Utc(2026, 6, 1, 8, 30),
             Utc(2026, 6, 1, 12, 10), Utc(2026, 6, 1, 12, 20), Utc(2026, 6, 1, 12, 30), Utc(2026, 6, 1, 16, 10)],
            next);
    }

    [Fact]
    public void Value_with_step_runs_from_the_value_to_the_end_of_the_field()
    {
        var next = Occurrences("50/4 0 0 * * *", Utc(2026, 6, 1), 4);

        Assert.Equal([Utc(2026, 6, 1, 0, 0, 50), Utc(2026, 6, 1, 0, 0, 54), Utc(2026, 6, 1, 0, 0, 58), Utc(2026, 6, 2, 0, 0, 50)], next);
    }

    [Fact]
    public void Lists_mix_values_ranges_and_names()
    {
        var next = Occurrences("0 0 6,18 1 JAN,jul-aug *", Utc(2026, 1, 1, 12), 4);

        Assert.Equal([Utc(2026, 1, 1, 18), Utc(2026, 7, 1, 6), Utc(2026, 7, 1, 18), Utc(2026, 8, 1, 6)], next);
    }

    [Fact]
    public void Sunday_is_zero_or_sun_and_seven_is_refused_as_by_the_functions_host()
    {
        var after = Utc(2026, 3, 10);
        var expected = Utc(2026, 3, 15, 4);

        Assert.Equal(expected, CronExpression.Parse("0 0 4 * * 0").GetNextOccurrence(after));
        Assert.Equal(expected, CronExpression.Parse("0 0 4 * * sun").GetNextOccurrence(after));
        Assert.False(CronExpression.TryParse("0 0 4 * * 7", out _, out var error));
        Assert.Contains("DayOfWeek", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_offset_is_converted_and_result_is_utc()
    {
        // 09:29 at +02:00 is 07:29 UTC, so the next 09:30 UTC is the same day.
        var next = CronExpression.Parse("0 30 9 * * *").GetNextOccurrence(new DateTimeOffset(2026, 3, 16, 9, 29, 0, TimeSpan.FromHours(2)));

        Assert.Equal(TimeSpan.Zero, next.Offset);
        Assert.Equal(Utc(2026, 3, 16, 9, 30), next);
    }

    [Fact]
    public void Every_second_schedule_advances_one_second()
    {
        Assert.Equal(Utc(2026, 1, 1, 0, 0, 1), CronExpression.Parse("* * * * * *").GetNextOccurrence(Utc(2026, 1, 1).AddTicks(1)));
    }

    // What NCrontab (and so the Functions host) refuses; the message is NCrontab's, after the expression.
    [Theory]
    [InlineData("0 */5 * * *")]
    [InlineData("0 0 */5 * * * *")]
    [InlineData("")]
    [InlineData("60 * * * * *")]
    [InlineData("0 60 * * * *")]
    [InlineData("0 0 24 * * *")]
    [InlineData("0 0 0 0 * *")]
    [InlineData("0 0 0 32 * *")]
    [InlineData("0 0 0 * 13 *")]
    [InlineData("0 0 0 * FOO *")]
    [InlineData("0 0 0 * * 8")]
    [InlineData("0 0 0,,1 * * *")]
    [InlineData("0 a * * * *")]
    [InlineData("-1 * * * * *")]
    public void Expression_the_functions_host_refuses_is_rejected_with_the_reason(string expression)
    {
        var error = Assert.Throws<FormatException>(() => CronExpression.Parse(expression));

        Assert.Contains(expression.Length == 0 ? "empty" : $"'{expression}'", error.Message, StringComparison.Ordinal);
        Assert.False(CronExpression.TryParse(expression, out var parsed, out var message));
        Assert.Null(parsed);
        Assert.Equal(error.Message, message);
    }

    [Fact]
    public void Day_that_exists_in_no_selected_month_is_rejected_at_parse_time()
    {
        var error = Assert.Throws<FormatException>(() => CronExpression.Parse("0 0 0 30 2 *"));

        Assert.Contains("never occur", error.Message, StringComparison.Ordinal);
    }
}
