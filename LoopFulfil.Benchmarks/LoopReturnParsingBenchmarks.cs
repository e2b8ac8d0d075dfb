using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;

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
        _payload = LoopReturnPayload.Build(PayloadKb * 1024);
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

/// <summary>Builds a return payload shaped like Loop's (ids and money as strings) of at least a given size.</summary>
internal static class LoopReturnPayload
{
    public static byte[] Build(int targetBytes)
    {
        var lines = new JsonArray();
        var root = new JsonObject
        {
            ["topic"] = "return", ["trigger"] = "return.created", ["id"] = "6042537", ["state"] = "open",
            ["created_at"] = "2026-11-02T09:15:00+00:00", ["total"] = "0.00", ["order_id"] = "26442641", ["order_name"] = "#1001",
            ["provider_order_id"] = 2773679177825, ["order_number"] = "1001", ["customer"] = "customer@example.com",
            ["address"] = new JsonObject
            {
                ["name"] = "Jane Doe", ["company"] = "Example Co", ["address1"] = "1 Example Street", ["address2"] = "",
                ["city"] = "New York", ["state"] = "New York", ["zip"] = "10024", ["country"] = "United States", ["country_code"] = "US", ["phone"] = "5550100",
            },
            ["currency"] = "USD", ["return_product_total"] = "0.00", ["return_discount_total"] = "0.00", ["return_tax_total"] = "0.00",
            ["return_total"] = "0.00", ["return_credit_total"] = "0.00", ["exchange_product_total"] = "0.00", ["exchange_discount_total"] = "0.00",
            ["exchange_tax_total"] = "0.00", ["exchange_total"] = "0.00", ["exchange_credit_total"] = "0.00", ["gift_card"] = "0.00",
            ["handling_fee"] = "0.00", ["refund"] = "0.00", ["refunds"] = new JsonArray(new JsonObject { ["gateway"] = "manual", ["amount"] = "0.00" }),
            ["upsell"] = "0.00", ["line_items"] = lines, ["exchanges"] = new JsonArray(),
            ["carrier"] = "USPS", ["tracking_number"] = "9461236895234251536060", ["label_status"] = "new", ["label_updated_at"] = "2026-11-02T09:15:05+00:00",
        };

        var i = 0;
        byte[] bytes;
        do
        {
            lines.Add(new JsonObject
            {
                ["line_item_id"] = (59160778 + i).ToString(CultureInfo.InvariantCulture),
                ["provider_line_item_id"] = 5896375795809 + (i / 2),
                ["product_id"] = "4769333706849", ["variant_id"] = "32725922578529", ["sku"] = i % 2 == 0 ? "TEE-BLK/M" : "MUG:12OZ",
                ["barcode"] = "", ["title"] = "Gold Bamboo Huggie Earrings - 14K / Yellow / Single",
                ["price"] = "120.00", ["discount"] = "19.88", ["tax"] = "8.01", ["refund"] = "108.13",
                ["returned_at"] = "2026-11-02 09:15:00", ["exchange_variant"] = "", ["return_reason"] = "Item was too big",
                ["parent_return_reason"] = "Item didn't fit", ["outcome"] = "default",
            });
            i++;
            bytes = Encoding.UTF8.GetBytes(root.ToJsonString());
        }
        while (bytes.Length < targetBytes);

        return bytes;
    }
}
