using System.Globalization;
using System.Text.Json.Nodes;

namespace LoopFulfil.Sandbox.Loop;

/// <summary>
/// Demo returns against the demo catalog (SKUs <c>TEE-BLK/M</c>, <c>MUG:12OZ</c>, <c>HAT-RED</c>; orders #1001–#1005):
/// a plain refund, an exchange on the original order, a legacy <c>EXC-</c> exchange, store credit, and a two-unit return.
/// </summary>
public static class LoopSandboxDemoData
{
    /// <summary>The demo returns, created relative to <paramref name="now"/>.</summary>
    public static IReadOnlyList<JsonObject> Returns(DateTimeOffset now)
    {
        string At(double hoursAgo) => now.AddHours(-hoursAgo).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        return
        [
            Return("70001", "#1001", "1001", At(30), "refund", "25.00", "2.00", gift: "0.00", refund: "27.00",
                [Line("81001", "5001", "TEE-BLK/M", "Tee Black / M", "25.00", "2.00", "27.00", "Too small")], []),
            Return("70002", "#1002", "1002", At(20), "exchange", "18.00", "0.00", gift: "0.00", refund: "0.00",
                [Line("81002", "5002", "MUG:12OZ", "Mug 12 oz", "18.00", "0.00", "0.00", "Damaged")],
                [Exchange("91002", "1002", "#1002", "MUG:12OZ", "Mug 12 oz", "18.00")]),
            Return("70003", "#1003", "1003", At(12), "exchange", "30.00", "0.00", gift: "0.00", refund: "0.00",
                [Line("81003", "5003", "HAT-RED", "Hat Red", "30.00", "0.00", "0.00", "Changed mind")],
                [Exchange("91003", "2003", "EXC-1003-1", "TEE-BLK/M", "Tee Black / M", "25.00")]),
            Return("70004", "#1004", "1004", At(6), "credit", "25.00", "0.00", gift: "25.00", refund: "0.00",
                [Line("81004", "5004", "TEE-BLK/M", "Tee Black / M", "25.00", "0.00", "0.00", "Style")], []),
            Return("70005", "#1005", "1005", At(2), "refund", "36.00", "0.00", gift: "0.00", refund: "36.00",
                [
                    Line("81005", "5005", "MUG:12OZ", "Mug 12 oz", "18.00", "0.00", "18.00", "Too big"),
                    Line("81006", "5005", "MUG:12OZ", "Mug 12 oz", "18.00", "0.00", "18.00", "Too big"),
                ], []),
        ];
    }

    private static JsonObject Return(string id, string orderName, string providerOrderId, string createdAt, string outcome,
        string productTotal, string tax, string gift, string refund, JsonObject[] lines, JsonObject[] exchanges)
    {
        var exchangeTotal = exchanges.Sum(e => decimal.Parse(e["total"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        var returnTotal = decimal.Parse(productTotal, CultureInfo.InvariantCulture) + decimal.Parse(tax, CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = id,
            ["shop_id"] = 9876,
            ["state"] = "open",
            ["outcome"] = outcome,
            ["created_at"] = createdAt,
            ["updated_at"] = createdAt,
            ["order_id"] = "4" + providerOrderId,
            ["order_name"] = orderName,
            ["provider_order_id"] = providerOrderId,
            ["order_number"] = providerOrderId,
            ["customer"] = $"demo+{providerOrderId}@example.com",
            ["currency"] = "USD",
            ["total"] = refund,
            ["return_product_total"] = productTotal,
            ["return_discount_total"] = "0.00",
            ["return_tax_total"] = tax,
            ["return_total"] = Money(returnTotal),
            ["return_credit_total"] = Money(exchangeTotal),
            ["exchange_product_total"] = Money(exchangeTotal),
            ["exchange_discount_total"] = "0.00",
            ["exchange_tax_total"] = "0.00",
            ["exchange_total"] = Money(exchangeTotal),
            ["exchange_credit_total"] = Money(exchangeTotal),
            ["gift_card"] = gift,
            ["handling_fee"] = "0.00",
            ["upsell"] = "0.00",
            ["refund"] = refund,
            ["refunds"] = new JsonArray(),
            ["line_items"] = new JsonArray([.. lines]),
            ["exchanges"] = new JsonArray([.. exchanges]),
            ["carrier"] = "USPS",
            ["tracking_number"] = "9400100000000000" + providerOrderId,
            ["label_status"] = "new",
        };
    }

    private static JsonObject Line(string id, string providerLineId, string sku, string title, string price, string tax, string refund, string reason) => new()
    {
        ["line_item_id"] = id,
        ["provider_line_item_id"] = providerLineId,
        ["product_id"] = "6" + providerLineId,
        ["variant_id"] = "7" + providerLineId,
        ["sku"] = sku,
        ["barcode"] = "",
        ["title"] = title,
        ["price"] = price,
        ["discount"] = "0.00",
        ["tax"] = tax,
        ["refund"] = refund,
        ["returned_at"] = null,
        ["exchange_variant"] = "",
        ["return_reason"] = reason,
        ["parent_return_reason"] = reason,
        ["outcome"] = "default",
    };

    private static JsonObject Exchange(string id, string orderId, string orderName, string sku, string title, string price) => new()
    {
        ["exchange_id"] = id,
        ["exchange_order_id"] = orderId,
        ["exchange_order_name"] = orderName,
        ["product_id"] = "6" + id,
        ["variant_id"] = "7" + id,
        ["sku"] = sku,
        ["type"] = "exchange",
        ["title"] = title,
        ["price"] = price,
        ["discount"] = "0.00",
        ["tax"] = "0.00",
        ["total"] = price,
        ["out_of_stock"] = false,
        ["out_of_stock_resolution"] = null,
    };

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
