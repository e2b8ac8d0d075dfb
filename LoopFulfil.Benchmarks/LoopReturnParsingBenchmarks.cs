using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Benchmarks;

/// <summary>
/// Cost of reading a Loop return webhook into the tolerant models (string-or-number ids, decimal strings, zoneless
/// timestamps) against the floor of merely parsing the same bytes into a <see cref="JsonDocument"/>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class LoopReturnParsingBenchmarks
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
    private byte[] _payload = [];

    /// <summary>Approximate payload size: a typical one-or-two-line return, and one with many lines.</summary>
    [Params(2, 32)]
    public int PayloadKb { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // The tests' builder: ids mostly strings, some numbers, money as strings, zoneless timestamps, SKUs with separators.
        _payload = LoopReturnBuilder.AReturn("6042537").WithNumericIds("provider_order_id", "provider_line_item_id").WithTimestampsWithoutZone()
            .GrownTo(PayloadKb * 1024, (b, i) => b.WithLine(i % 2 == 0 ? "TEE-BLK/M" : "MUG:12OZ", 120.00m, tax: 8.01m, discount: 19.88m, reason: "Item was too big"))
            .BuildBytes();
        Console.WriteLine($"// Payload: {_payload.Length} bytes, {LoopJson.Deserialize<LoopReturn>(_payload).LineItems.Count} lines");
    }

    [Benchmark(Baseline = true)]
    public int JsonDocumentParse()
    {
        using var document = JsonDocument.Parse(_payload, DocumentOptions);
        return document.RootElement.GetProperty("line_items").GetArrayLength();
    }

    [Benchmark]
    public int TolerantModels() => LoopJson.Deserialize<LoopReturn>(_payload).LineItems.Count;
}
