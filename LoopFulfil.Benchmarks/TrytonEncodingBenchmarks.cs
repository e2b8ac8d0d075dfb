using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Benchmarks;

/// <summary>
/// Cost of Tryton encoding (Decimal/date/datetime objects) against plain System.Text.Json of the same shape with
/// ordinary numbers and ISO strings, on a sale shaped like a real <c>sale.sale</c> read (12 money fields, 4 datetimes,
/// a date, ids and 10 lines with money and quantities).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class TrytonEncodingBenchmarks
{
    private static readonly JsonSerializerOptions Plain = new(JsonSerializerDefaults.General) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private SalePayload _sale = null!;
    private byte[] _trytonJson = null!;
    private byte[] _plainJson = null!;

    [GlobalSetup]
    public void Setup()
    {
        var created = new DateTime(2018, 4, 18, 20, 20, 13, DateTimeKind.Utc).AddTicks(8620820);
        _sale = new SalePayload(
            213112, "SO79797", "R230530021", "R230530021", "done", "paid", "sent", "2", 118637, 284163, 284163, 4, 3, 172, 1,
            60.00m, 0m, 60.00m, 10.00m, 59.00m, 60.00m, 60.00m, 60.00m, 60.00m, 0m, 0.00m, 10.0m,
            new DateOnly(2018, 4, 18), created.AddMinutes(-3), created, created.AddDays(1), created.AddDays(1).AddSeconds(-1),
            [81292], [153821], [12693],
            Enumerable.Range(0, 10).Select(i => new SaleLinePayload(217937 + i, 5563 + i, "2000050" + i, "NEW 2MBI150UA-120 Apple " + i, 1m + i, 19.99m + i, (1m + i) * (19.99m + i), "5916077" + i)).ToArray());
        _trytonJson = JsonSerializer.SerializeToUtf8Bytes(_sale, TrytonJson.Options);
        _plainJson = JsonSerializer.SerializeToUtf8Bytes(_sale, Plain);
    }

    [BenchmarkCategory("Serialize"), Benchmark(Baseline = true)]
    public byte[] SerializePlain() => JsonSerializer.SerializeToUtf8Bytes(_sale, Plain);

    [BenchmarkCategory("Serialize"), Benchmark]
    public byte[] SerializeTryton() => JsonSerializer.SerializeToUtf8Bytes(_sale, TrytonJson.Options);

    [BenchmarkCategory("Deserialize"), Benchmark(Baseline = true)]
    public SalePayload? DeserializePlain() => JsonSerializer.Deserialize<SalePayload>(_plainJson, Plain);

    [BenchmarkCategory("Deserialize"), Benchmark]
    public SalePayload? DeserializeTryton() => JsonSerializer.Deserialize<SalePayload>(_trytonJson, TrytonJson.Options);

    public sealed record SalePayload(
        int Id, string Number, string Reference, string ChannelIdentifier, string State, string InvoiceState, string ShipmentState, string Priority,
        int Party, int InvoiceAddress, int ShipmentAddress, int Warehouse, int Channel, int Currency, int Company,
        decimal TotalAmount, decimal TaxAmountCache, decimal UntaxedAmount, decimal ShipmentAmountInvoiced, decimal Credit, decimal TotalAmountCache,
        decimal PaymentCollected, decimal AmountInvoiced, decimal PaymentCaptured, decimal PaymentAuthorized, decimal PaymentAvailable, decimal TotalShipmentCost,
        DateOnly SaleDate, DateTime ConfirmationTime, DateTime CreateDate, DateTime WriteDate, DateTime LastModification,
        int[] Shipments, int[] Invoices, int[] Payments, SaleLinePayload[] Lines);

    public sealed record SaleLinePayload(int Id, int Product, string ProductCode, string Description, decimal Quantity, decimal UnitPrice, decimal Amount, string ChannelIdentifier);
}
