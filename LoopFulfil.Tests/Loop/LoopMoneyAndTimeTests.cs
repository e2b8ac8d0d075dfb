using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Tests.Loop;

public class LoopMoneyAndTimeTests
{
    [Theory]
    [InlineData("USD", 2)]
    [InlineData("EUR", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("KWD", 3)]
    [InlineData("BHD", 3)]
    [InlineData("OMR", 3)]
    [InlineData("jpy", 0)]
    [InlineData("CLF", 4)]
    public void Currency_exponent_follows_iso_4217(string currency, int exponent)
        => Assert.Equal(exponent, CurrencyExponent.For(currency));

    [Theory]
    [InlineData("12.50", "USD", 1250)]
    [InlineData("1200", "JPY", 1200)]
    [InlineData("12.345", "KWD", 12345)]
    [InlineData("0.005", "USD", 1)]
    [InlineData("-0.005", "USD", -1)]
    [InlineData("1199.5", "JPY", 1200)]
    [InlineData("0", "BHD", 0)]
    public void Decimal_amounts_become_minor_units_by_currency_rounding_half_away_from_zero(string amount, string currency, long minor)
    {
        var money = LoopMoney.FromDecimal(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), currency);

        Assert.Equal((minor, currency.ToUpperInvariant()), (money.Amount, money.CurrencyCode));
    }

    [Theory]
    [InlineData(1250, "USD", "12.50")]
    [InlineData(1200, "JPY", "1200")]
    [InlineData(12345, "KWD", "12.345")]
    public void Minor_units_convert_back_to_the_decimal_amount(long minor, string currency, string expected)
        => Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), new LoopMoney(minor, currency).ToDecimal());

    [Fact]
    public void Money_serializes_as_integer_amount_and_currency_code()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(LoopMoney.FromDecimal(25m, "USD"), LoopJson.Options);

        Assert.Equal("""{"amount":2500,"currency_code":"USD"}""", json);
    }

    [Fact]
    public void Timestamps_are_written_as_rfc_3339_with_offset_and_no_milliseconds()
    {
        var at = new DateTimeOffset(2023, 4, 25, 13, 25, 0, 987, TimeSpan.FromHours(-5));

        Assert.Equal("2023-04-25T13:25:00-05:00", LoopTimestamps.ToRfc3339(at));
        Assert.Equal("\"2023-04-25T13:25:00-05:00\"", System.Text.Json.JsonSerializer.Serialize(at, LoopJson.Options));
        Assert.Equal("2023-04-25T18:25:00+00:00", LoopTimestamps.ToRfc3339(at.ToUniversalTime()));
    }

    [Fact]
    public void List_query_times_are_utc_without_t_or_zone()
        => Assert.Equal("2023-04-25 18:25:00", LoopTimestamps.ToListQuery(new DateTimeOffset(2023, 4, 25, 13, 25, 0, TimeSpan.FromHours(-5))));

    [Theory]
    [InlineData("2020-10-29 16:07:31", "2020-10-29T16:07:31+00:00")]
    [InlineData("2020-10-29T16:07:31", "2020-10-29T16:07:31+00:00")]
    [InlineData("2020-10-29T16:07:31+00:00", "2020-10-29T16:07:31+00:00")]
    [InlineData("2023-01-01T22:27:15.000Z", "2023-01-01T22:27:15+00:00")]
    [InlineData("2023-04-25T13:25:00-05:00", "2023-04-25T13:25:00-05:00")]
    public void Every_timestamp_form_loop_sends_is_read_and_zoneless_means_utc(string text, string expected)
    {
        Assert.True(LoopTimestamps.TryParse(text, out var parsed));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).Offset, parsed.Offset);
    }

    [Theory]
    [InlineData("confirmed", LoopOrderStatus.Active)]
    [InlineData("processing", LoopOrderStatus.Active)]
    [InlineData("done", LoopOrderStatus.Active)]
    [InlineData("cancel", LoopOrderStatus.Cancelled)]
    [InlineData("cancelled", LoopOrderStatus.Cancelled)]
    [InlineData("draft", LoopOrderStatus.Unknown)]
    [InlineData(null, LoopOrderStatus.Unknown)]
    public void Fulfil_sale_states_map_to_loop_order_statuses(string? state, LoopOrderStatus expected)
        => Assert.Equal(expected, LoopOrderStatusMap.FromFulfilSaleState(state));

    [Fact]
    public void Order_status_is_written_in_lower_case()
        => Assert.Equal("\"archived\"", System.Text.Json.JsonSerializer.Serialize(LoopOrderStatus.Archived, LoopJson.Options));

    [Fact]
    public void Tolerant_reading_accepts_ids_as_numbers_money_as_strings_and_empty_values()
    {
        const string json = """
            { "id": 6042537, "total": "", "refund": 12.5, "gift_card": null, "is_gift_return": "1",
              "created_at": "", "line_items": [ { "line_item_id": 18446744073709551615, "price": "120.00", "brand_new_field": {"x": 1} } ],
              "exchanges": [ { "out_of_stock": 1 } ], }
            """;

        var r = LoopJson.Deserialize<LoopReturn>(json);

        Assert.Equal(("6042537", 0m, 12.5m, 0m, true), (r.Id, r.Total, r.Refund, r.GiftCard, r.IsGiftReturn));
        Assert.Null(r.CreatedAt);
        Assert.Equal(("18446744073709551615", 120.00m), (r.LineItems[0].LineItemId, r.LineItems[0].Price));
        Assert.True(r.Exchanges[0].OutOfStock);
    }

    [Fact]
    public void Loop_ids_sent_back_are_numbers_when_numeric()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new[] { LoopIdReference.ByLoopId("123"), LoopIdReference.ByLoopId("gid-9"), LoopIdReference.ByExternalId("SKU-1") }, LoopJson.Options);

        Assert.Equal("""[{"id":123},{"id":"gid-9"},{"external_id":"SKU-1"}]""", json);
    }

    [Fact]
    public void Notes_are_fitted_below_255_characters()
    {
        Assert.Equal("short", LoopNotes.Fit("  short "));
        Assert.Equal(254, LoopNotes.Fit(new string('n', 300)).Length);
        Assert.EndsWith("…", LoopNotes.Fit(new string('n', 300)), StringComparison.Ordinal);
    }

    [Fact]
    public void Long_list_ranges_split_into_windows_of_at_most_120_days_that_cover_the_range()
    {
        var from = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = from.AddDays(365);

        var windows = LoopClient.Windows(from, to).ToList();

        Assert.Equal(4, windows.Count);
        Assert.Equal(from, windows[0].From);
        Assert.Equal(to, windows[^1].To);
        Assert.All(windows, w => Assert.InRange(w.To - w.From, TimeSpan.FromTicks(1), TimeSpan.FromDays(120)));
        Assert.All(windows.Zip(windows.Skip(1)), pair => Assert.Equal(pair.First.To, pair.Second.From));
    }
}
