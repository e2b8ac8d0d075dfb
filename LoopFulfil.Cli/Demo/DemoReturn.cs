using System.Globalization;
using System.Text.Json.Nodes;

namespace LoopFulfil.Cli.Demo;

/// <summary>
/// A Loop return as Loop's API and webhooks carry it (ids and money as strings, one line item per unit), written
/// against the Fulfil sandbox's demo sales (#1001–#1004) for the demo scenarios.
/// </summary>
internal sealed class DemoReturn(string id, string orderName, string outcome)
{
    private readonly List<(string Sku, decimal Price)> _units = [];
    private readonly List<(string Sku, decimal Price)> _exchanges = [];

    public string Id { get; } = id;

    /// <summary>Sales tax the shop charged on each unit (Loop's line <c>tax</c>); 0 against the sandbox, Tryton's 10% against it.</summary>
    public decimal TaxRate { get; init; }

    public string OrderName { get; } = orderName;

    public DemoReturn WithUnit(string sku, decimal price)
    {
        _units.Add((sku, price));
        return this;
    }

    /// <summary>An exchange item Loop adds to the original order (the current Loop shape).</summary>
    public DemoReturn WithExchange(string sku, decimal price)
    {
        _exchanges.Add((sku, price));
        return this;
    }

    /// <summary>Loop <c>line_item_id</c>s, one per unit, as <see cref="ToJson"/> writes them.</summary>
    public IReadOnlyList<string> LineItemIds => [.. _units.Select((_, i) => LineItemId(i))];

    private string LineItemId(int index) => string.Create(CultureInfo.InvariantCulture, $"{Id}{index + 1:00}");

    /// <summary>The return, created <paramref name="createdAt"/> (the sandbox stamps later state changes with the time they happen).</summary>
    public JsonObject ToJson(DateTimeOffset createdAt)
    {
        var digits = new string(OrderName.Where(char.IsAsciiDigit).ToArray());
        var net = _units.Sum(u => u.Price);
        var tax = _units.Sum(u => Tax(u.Price));
        var total = net + tax;
        var stamp = createdAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        var lines = new JsonArray();
        for (var i = 0; i < _units.Count; i++)
        {
            var (sku, price) = _units[i];
            var lineId = LineItemId(i);
            lines.Add(new JsonObject
            {
                ["line_item_id"] = lineId,
                ["provider_line_item_id"] = "9" + lineId,
                ["product_id"] = "61" + lineId,
                ["variant_id"] = "62" + lineId,
                ["sku"] = sku,
                ["barcode"] = "",
                ["title"] = sku,
                ["price"] = Money(price),
                ["discount"] = "0.00",
                ["tax"] = Money(Tax(price)),
                ["refund"] = Money(price + Tax(price)),
                ["returned_at"] = null,
                ["exchange_variant"] = "",
                ["return_reason"] = "Did not fit",
                ["parent_return_reason"] = "Did not fit",
                ["outcome"] = "default",
            });
        }

        var exchanges = new JsonArray();
        for (var i = 0; i < _exchanges.Count; i++)
        {
            var (sku, price) = _exchanges[i];
            var exchangeId = string.Create(CultureInfo.InvariantCulture, $"{Id}9{i + 1}");
            exchanges.Add(new JsonObject
            {
                ["exchange_id"] = exchangeId,
                ["exchange_order_id"] = "555000" + digits,
                ["exchange_order_name"] = OrderName,
                ["product_id"] = "63" + exchangeId,
                ["variant_id"] = "64" + exchangeId,
                ["sku"] = sku,
                ["type"] = "exchange",
                ["title"] = sku,
                ["price"] = Money(price),
                ["discount"] = "0.00",
                ["tax"] = Money(Tax(price)),
                ["total"] = Money(price + Tax(price)),
                ["out_of_stock"] = false,
                ["out_of_stock_resolution"] = null,
            });
        }

        var exchangeNet = _exchanges.Sum(e => e.Price);
        var exchangeTax = _exchanges.Sum(e => Tax(e.Price));
        var exchangeTotal = exchangeNet + exchangeTax;
        var credit = Math.Min(total, exchangeTotal);
        var rest = total - credit;
        return new JsonObject
        {
            ["id"] = Id,
            ["shop_id"] = "9876",
            ["state"] = "open",
            ["outcome"] = outcome,
            ["created_at"] = stamp,
            ["updated_at"] = stamp,
            ["total"] = Money(total),
            ["order_id"] = "500" + digits,
            ["order_name"] = OrderName,
            ["provider_order_id"] = "555000" + digits,
            ["order_number"] = digits,
            ["customer"] = "demo-customer@example.com",
            ["currency"] = "USD",
            ["return_product_total"] = Money(net),
            ["return_discount_total"] = "0.00",
            ["return_tax_total"] = Money(tax),
            ["return_total"] = Money(total),
            ["return_credit_total"] = Money(credit),
            ["exchange_product_total"] = Money(exchangeNet),
            ["exchange_discount_total"] = "0.00",
            ["exchange_tax_total"] = Money(exchangeTax),
            ["exchange_total"] = Money(exchangeTotal),
            ["exchange_credit_total"] = Money(credit),
            ["gift_card"] = outcome == "credit" ? Money(rest) : "0.00",
            ["handling_fee"] = "0.00",
            ["upsell"] = Money(Math.Max(0m, exchangeTotal - total)),
            ["refund"] = outcome == "credit" ? "0.00" : Money(rest),
            ["refunds"] = new JsonArray(),
            ["line_items"] = lines,
            ["exchanges"] = exchanges,
            ["carrier"] = "USPS",
            ["tracking_number"] = "94001000000000" + Id,
            ["label_status"] = "new",
        };
    }

    private decimal Tax(decimal price) => decimal.Round(price * TaxRate, 2, MidpointRounding.AwayFromZero);

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
