using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Tests.Fulfil;

public class TrytonEncodingTests
{
    private static readonly JsonObject Spec = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Fulfil", "tryton-encoding-spec.json")))!;

    private static T Read<T>(string kind, string version) =>
        JsonSerializer.Deserialize<T>(Spec[kind]![version]!.ToJsonString(), TrytonJson.Options)!;

    private static void AssertWritesV2<T>(string kind, T value)
    {
        var written = JsonNode.Parse(JsonSerializer.Serialize(value, TrytonJson.Options));
        var expected = Spec[kind]!["v2"];
        Assert.True(JsonNode.DeepEquals(expected, written), $"expected {expected!.ToJsonString()} but wrote {written!.ToJsonString()}");
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v3")]
    public void Decimal_reads_every_version_without_losing_digits(string version)
    {
        Assert.Equal(101.123456789m, Read<decimal>("decimal", version));
        Assert.Equal("101.123456789", Read<decimal>("decimal", version).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v3")]
    public void Date_reads_every_version(string version) =>
        Assert.Equal(new DateOnly(2020, 1, 1), Read<DateOnly>("date", version));

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v3")]
    public void Datetime_reads_every_version_as_utc_with_microseconds(string version)
    {
        var value = Read<DateTime>("datetime", version);
        Assert.Equal(new DateTime(2020, 1, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(100), value);
        Assert.Equal(DateTimeKind.Utc, value.Kind);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v3")]
    public void Time_reads_every_version(string version) =>
        Assert.Equal(new TimeOnly(10, 20, 30).Add(TimeSpan.FromTicks(150)), Read<TimeOnly>("time", version));

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v3")]
    public void Timedelta_reads_every_version(string version) =>
        Assert.Equal(TimeSpan.FromHours(25), Read<TimeSpan>("timedelta", version));

    [Fact]
    public void Writes_the_v2_shape_for_every_type()
    {
        AssertWritesV2("decimal", 101.123456789m);
        AssertWritesV2("date", new DateOnly(2020, 1, 1));
        AssertWritesV2("datetime", new DateTime(2020, 1, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(100));
        AssertWritesV2("time", new TimeOnly(10, 20, 30).Add(TimeSpan.FromTicks(150)));
        AssertWritesV2("timedelta", TimeSpan.FromHours(25));
    }

    [Fact]
    public void Money_is_never_written_as_a_json_number_and_keeps_its_scale()
    {
        var json = JsonSerializer.Serialize(new { unit_price = 12.50m, total = 0.10m }, TrytonJson.Options);

        Assert.Equal("""{"unit_price":{"__class__":"Decimal","decimal":"12.50"},"total":{"__class__":"Decimal","decimal":"0.10"}}""", json);
    }

    [Fact]
    public void Quantities_marked_as_float_travel_as_plain_numbers_and_read_back_from_either_shape()
    {
        Assert.Equal("""{"q":1.5}""", JsonSerializer.Serialize(new { q = new TrytonFloat(1.5m) }, TrytonJson.Options));
        Assert.Equal(2m, JsonSerializer.Deserialize<TrytonFloat>("""{"__class__":"Decimal","decimal":"2"}""", TrytonJson.Options).Value);
        Assert.Equal(0.8m, JsonSerializer.Deserialize<decimal>("0.8", TrytonJson.Options));
    }

    [Fact]
    public void Datetime_without_microseconds_writes_the_python_iso_form()
    {
        var node = JsonNode.Parse(JsonSerializer.Serialize(new DateTime(2018, 4, 18, 20, 17, 52, DateTimeKind.Utc), TrytonJson.Options))!;

        Assert.Equal("2018-04-18T20:17:52", node["iso_string"]!.GetValue<string>());
        Assert.Equal(0, node["microsecond"]!.GetValue<int>());
    }

    [Fact]
    public void A_real_sale_read_decodes_money_dates_and_datetimes()
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Fulfil", "sale-read.json"));

        var sale = JsonSerializer.Deserialize<SaleSample>(json, TrytonJson.Options)!;

        Assert.Equal(60.00m, sale.TotalAmount);
        Assert.Equal(59.00m, sale.Credit);
        Assert.Equal("60.0", sale.PaymentTotal.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new DateOnly(2018, 4, 18), sale.SaleDate);
        Assert.Equal(new DateTime(2018, 4, 18, 20, 20, 13, DateTimeKind.Utc).AddTicks(8620820), sale.CreateDate);
        Assert.Equal(1m, sale.TotalQuantity);
        Assert.Equal("R230530021", sale.Reference);
        Assert.Equal([217937, 217938], sale.Lines);
    }

    [Theory]
    [InlineData("60.00", "60.00")]
    [InlineData("-0.10", "-0.10")]
    [InlineData("1E+2", "100")]
    [InlineData("0", "0")]
    public void Decimal_strings_keep_their_scale_and_accept_the_python_exponent_form(string wire, string expected)
    {
        var value = JsonSerializer.Deserialize<decimal>($$"""{"__class__":"Decimal","decimal":"{{wire}}"}""", TrytonJson.Options);

        Assert.Equal(expected, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_decimal_field_holding_another_tryton_class_is_refused()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<decimal>("""{"__class__":"date","year":2020,"month":1,"day":1}""", TrytonJson.Options));
    }

    private sealed record SaleSample(decimal TotalAmount, decimal Credit, decimal PaymentTotal, DateOnly SaleDate, DateTime CreateDate, decimal TotalQuantity, string Reference, int[] Lines);
}
