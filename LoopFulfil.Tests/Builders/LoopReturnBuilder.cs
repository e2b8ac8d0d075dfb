using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Sandbox.Loop;

namespace LoopFulfil.Tests.Builders;

/// <summary>
/// Builds Loop return payloads the way Loop sends them (ids and money as strings, snake_case, <c>+00:00</c> offsets),
/// for webhook bodies, sandbox returns (<c>LoopSandbox.AddReturn</c>) and parsed <see cref="LoopReturn"/>s.
/// Totals follow the lines unless set explicitly. A closed return is a processed one unless <see cref="WithoutProcessing"/>.
/// The integration tests' returns start from <see cref="ForDemoSale"/>; every body of one return (created, closed…)
/// carries the same ids, whether built again from the same id (<see cref="LineId"/>) or from this builder.
/// </summary>
public sealed class LoopReturnBuilder
{
    /// <summary>When the returns of <see cref="ForDemoSale"/> were created in Loop.</summary>
    public static readonly DateTimeOffset DemoSaleReturnCreated = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    // Unique within the test run, which is all ids need: sandboxes, Azurite and the Tryton database are new each run.
    private static long s_nextId = 7_500_000;

    private readonly JsonObject _overrides = [];
    private readonly List<JsonObject> _lines = [];
    private readonly List<JsonObject> _exchanges = [];
    private readonly List<JsonObject> _refunds = [];
    private readonly HashSet<string> _numericIdFields = new(StringComparer.Ordinal);
    private string _id;
    private bool _numericIds;
    private bool _zonelessTimestamps;
    private string? _trigger = "return.created";
    private string _state = "open";
    private string _orderName = "#1001";
    private string _providerOrderId = "3001001";
    private string _loopOrderId = "5001001";
    private string _currency = "USD";
    private DateTimeOffset _createdAt = new(2026, 11, 2, 9, 15, 0, TimeSpan.Zero);
    private decimal _giftCard;
    private decimal _handlingFee;
    private decimal _upsell;
    private decimal? _refund;
    private string? _outcome;
    private bool _unprocessed;
    private int? _editedMinutes;

    private LoopReturnBuilder(string id) => _id = id;

    /// <summary>A new open return (<c>return.created</c>) for order #1001 with no lines yet.</summary>
    public static LoopReturnBuilder AReturn(string? id = null) => new(id ?? NextId());

    /// <summary>
    /// A return of the integration tests against a Fulfil sandbox demo sale (provider order id <c>555000</c> and the
    /// order's number), created at <see cref="DemoSaleReturnCreated"/> and not edited since, with no trigger (bodies
    /// for webhooks come from <see cref="Webhook"/>). <paramref name="returnId"/> builds another body of that return.
    /// </summary>
    public static LoopReturnBuilder ForDemoSale(string orderName = "#1001", string? returnId = null)
        => AReturn(returnId).WithTrigger(null).ForOrder(orderName, "555000" + orderName.TrimStart('#')).CreatedAt(DemoSaleReturnCreated).EditedAtMinutes(0);

    /// <summary>A new id, unique within the test run.</summary>
    public static string NextId() => Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>The return id this builder writes.</summary>
    public string ReturnId => _id;

    /// <summary>When Loop last edited the return (<see cref="EditedAtMinutes"/>; creation when not set).</summary>
    public DateTimeOffset EditedAt => _createdAt.AddMinutes(_editedMinutes ?? 0);

    /// <summary>Line id of the <paramref name="n"/>th unit (1-based): the return id and two digits.</summary>
    public string LineId(int n) => LineId(_id, n);

    /// <inheritdoc cref="LineId(int)"/>
    public static string LineId(string returnId, int n) => returnId + n.ToString("00", CultureInfo.InvariantCulture);

    public LoopReturnBuilder WithId(string id)
    {
        _id = id;
        return this;
    }

    /// <summary>Writes every id as a JSON number, as some Loop payloads do; or only the named id fields (a mixed payload).</summary>
    public LoopReturnBuilder WithNumericIds(params string[] fields)
    {
        _numericIds |= fields.Length == 0;
        _numericIdFields.UnionWith(fields);
        return this;
    }

    /// <summary>Writes timestamps as <c>yyyy-MM-dd HH:mm:ss</c> with no zone (meaning UTC).</summary>
    public LoopReturnBuilder WithTimestampsWithoutZone()
    {
        _zonelessTimestamps = true;
        return this;
    }

    /// <summary>Webhook trigger; null leaves topic and trigger out (as the pull APIs do).</summary>
    public LoopReturnBuilder WithTrigger(string? trigger)
    {
        _trigger = trigger;
        return this;
    }

    public LoopReturnBuilder WithState(string state)
    {
        _state = state;
        return this;
    }

    public LoopReturnBuilder ForOrder(string orderName, string? providerOrderId = null, string? loopOrderId = null)
    {
        _orderName = orderName;
        var digits = new string(orderName.Where(char.IsAsciiDigit).ToArray());
        _providerOrderId = providerOrderId ?? "300" + digits;
        _loopOrderId = loopOrderId ?? "500" + digits;
        return this;
    }

    /// <summary>A return whose order Loop holds without the platform's order id.</summary>
    public LoopReturnBuilder WithoutProviderOrderId() => Set("provider_order_id", null);

    public LoopReturnBuilder WithCurrency(string currency)
    {
        _currency = currency;
        return this;
    }

    public LoopReturnBuilder CreatedAt(DateTimeOffset createdAt)
    {
        _createdAt = createdAt;
        return this;
    }

    /// <summary>Sets <c>updated_at</c> and <c>edited_at</c> this many minutes after <c>created_at</c>.</summary>
    public LoopReturnBuilder EditedAtMinutes(int minutesAfterCreation)
    {
        _editedMinutes = minutesAfterCreation;
        return this;
    }

    /// <summary>The return as Loop holds it <paramref name="minutesAfterCreation"/> minutes after creation, in <paramref name="state"/>.</summary>
    public LoopReturnBuilder AsOf(string state, int minutesAfterCreation) => WithState(state).EditedAtMinutes(minutesAfterCreation);

    /// <summary>Applies a scenario's lines and money.</summary>
    public LoopReturnBuilder Configure(Action<LoopReturnBuilder> configure)
    {
        configure(this);
        return this;
    }

    public LoopReturnBuilder WithOutcome(string outcome)
    {
        _outcome = outcome;
        return this;
    }

    /// <summary>Adds one returned unit (Loop has no quantity: call again, or use <see cref="WithUnits"/>, for more).</summary>
    public LoopReturnBuilder WithLine(string sku, decimal price, decimal tax = 0m, decimal discount = 0m, decimal? refund = null,
        string? lineItemId = null, string? providerLineItemId = null, string reason = "Item didn't fit", string? exchangeVariant = null)
    {
        var id = lineItemId ?? Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture);
        _lines.Add(new JsonObject
        {
            ["line_item_id"] = id,
            ["provider_line_item_id"] = providerLineItemId ?? "9" + id,
            ["product_id"] = "61" + id,
            ["variant_id"] = "62" + id,
            ["sku"] = sku,
            ["barcode"] = "",
            ["title"] = sku,
            ["price"] = Money(price),
            ["discount"] = Money(discount),
            ["tax"] = Money(tax),
            ["refund"] = Money(refund ?? price - discount + tax),
            ["returned_at"] = null,
            ["exchange_variant"] = exchangeVariant ?? "",
            ["return_reason"] = reason,
            ["parent_return_reason"] = reason,
            ["outcome"] = "default",
        });
        return this;
    }

    /// <summary>
    /// Adds <paramref name="units"/> units of the order line <paramref name="providerLineItemId"/>, with line ids
    /// <see cref="LineId(int)"/> in the order added (so another body of the return built the same way has the same ids).
    /// </summary>
    public LoopReturnBuilder WithUnits(string sku, int units, decimal price, string providerLineItemId, string reason = "Too small")
    {
        for (var i = 0; i < units; i++)
        {
            WithLine(sku, price, lineItemId: LineId(_lines.Count + 1), providerLineItemId: providerLineItemId, reason: reason);
        }

        return this;
    }

    /// <summary>Adds <paramref name="count"/> units of one order line (same provider line id, distinct Loop line ids).</summary>
    public LoopReturnBuilder WithUnits(string sku, int count, decimal price, decimal tax = 0m)
    {
        var providerLine = "9" + Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            WithLine(sku, price, tax, providerLineItemId: providerLine);
        }

        return this;
    }

    /// <summary>Repeats the last line with the same <c>line_item_id</c>, as real data sometimes does.</summary>
    public LoopReturnBuilder WithLastLineDuplicated()
    {
        _lines.Add((JsonObject)_lines[^1].DeepClone());
        return this;
    }

    /// <summary>An exchange item added to the original order (current Loop shape).</summary>
    public LoopReturnBuilder WithExchangeOnOriginalOrder(string sku, decimal price, decimal tax = 0m, bool outOfStock = false)
        => AddExchange(sku, price, tax, _providerOrderId, _orderName, outOfStock);

    /// <summary>An exchange item on a separate legacy <c>EXC-</c> order.</summary>
    public LoopReturnBuilder WithExchangeOnSeparateOrder(string sku, decimal price, string? exchangeOrderName = null, decimal tax = 0m)
        => AddExchange(sku, price, tax, "39" + _providerOrderId, exchangeOrderName ?? $"EXC-{_orderName.TrimStart('#')}-1", outOfStock: false);

    /// <summary>Store credit on a gift card.</summary>
    public LoopReturnBuilder WithGiftCard(decimal amount)
    {
        _giftCard = amount;
        _outcome ??= "credit";
        return this;
    }

    public LoopReturnBuilder WithRefund(decimal amount)
    {
        _refund = amount;
        return this;
    }

    public LoopReturnBuilder WithRefundGateway(string gateway, decimal amount)
    {
        _refunds.Add(new JsonObject { ["gateway"] = gateway, ["amount"] = Money(amount), ["currency"] = _currency });
        return this;
    }

    /// <summary>
    /// A closed return that Loop closed without executing its outcomes (Close Return): <c>refunds</c> stays empty.
    /// Without it a closed return carries what processing leaves in the payload (see <see cref="BuildJson"/>).
    /// </summary>
    public LoopReturnBuilder WithoutProcessing()
    {
        _unprocessed = true;
        return this;
    }

    public LoopReturnBuilder WithHandlingFee(decimal amount)
    {
        _handlingFee = amount;
        return this;
    }

    public LoopReturnBuilder WithUpsell(decimal amount)
    {
        _upsell = amount;
        return this;
    }

    /// <summary>Adds lines (<paramref name="addLine"/> gets the line's index) until the payload is at least <paramref name="bytes"/> long.</summary>
    public LoopReturnBuilder GrownTo(int bytes, Action<LoopReturnBuilder, int> addLine)
    {
        for (var i = 0; BuildBytes().Length < bytes; i++)
        {
            addLine(this, i);
        }

        return this;
    }

    /// <summary>Sets any top-level field (wins over computed values).</summary>
    public LoopReturnBuilder Set(string field, JsonNode? value)
    {
        _overrides[field] = value;
        return this;
    }

    /// <summary>The payload as a JSON object.</summary>
    public JsonObject BuildJson()
    {
        var product = Sum(_lines, "price");
        var discount = Sum(_lines, "discount");
        var tax = Sum(_lines, "tax");
        var returnTotal = product - discount + tax;
        var exchangeProduct = Sum(_exchanges, "price");
        var exchangeTax = Sum(_exchanges, "tax");
        var exchangeTotal = Sum(_exchanges, "total");
        var credit = Math.Min(returnTotal, exchangeTotal);
        var refund = _refund ?? Math.Max(0m, returnTotal - credit - _giftCard - _handlingFee);
        var outcome = _outcome ?? (_exchanges.Count > 0 ? (refund > 0 ? "exchange+refund" : "exchange") : "refund");

        var json = new JsonObject();
        if (_trigger is not null)
        {
            json["topic"] = "return";
            json["trigger"] = _trigger;
        }

        json["id"] = Id("id", _id);
        json["shop_id"] = Id("shop_id", "9876");
        json["state"] = _state;
        json["outcome"] = outcome;
        json["created_at"] = Stamp(_createdAt);
        json["updated_at"] = Stamp(_createdAt);
        json["total"] = Money(returnTotal);
        json["order_id"] = Id("order_id", _loopOrderId);
        json["order_name"] = _orderName;
        json["provider_order_id"] = Id("provider_order_id", _providerOrderId);
        json["order_number"] = _orderName.TrimStart('#');
        json["customer"] = "customer@example.com";
        json["currency"] = _currency;
        json["return_product_total"] = Money(product);
        json["return_discount_total"] = Money(discount);
        json["return_tax_total"] = Money(tax);
        json["return_total"] = Money(returnTotal);
        json["return_credit_total"] = Money(credit);
        json["exchange_product_total"] = Money(exchangeProduct);
        json["exchange_discount_total"] = Money(0m);
        json["exchange_tax_total"] = Money(exchangeTax);
        json["exchange_total"] = Money(exchangeTotal);
        json["exchange_credit_total"] = Money(credit);
        json["gift_card"] = Money(_giftCard);
        json["handling_fee"] = Money(_handlingFee);
        json["upsell"] = Money(_upsell);
        json["refund"] = Money(refund);
        json["refunds"] = new JsonArray([.. _refunds.Select(r => r.DeepClone())]);
        if (_refunds.Count == 0 && _state == "closed" && !_unprocessed)
        {
            // Processing fills refunds[] (empty while open): the cash refund, or a manual 0.00 (Loop's samples).
            json["refunds"] = new JsonArray(new JsonObject { ["gateway"] = refund > 0 ? "shopify_payments" : "manual", ["amount"] = Money(refund), ["currency"] = _currency });
        }

        json["line_items"] = new JsonArray([.. _lines.Select(Line)]);
        json["exchanges"] = new JsonArray([.. _exchanges.Select(e => Ids(e.DeepClone().AsObject(), "exchange_id", "exchange_order_id", "product_id", "variant_id"))]);
        json["carrier"] = "USPS";
        json["tracking_number"] = "9400100000000000000000";
        json["label_status"] = "new";
        json["label_updated_at"] = Stamp(_createdAt.AddSeconds(2));
        if (_editedMinutes is not null)
        {
            json["updated_at"] = Stamp(EditedAt);
            json["edited_at"] = Stamp(EditedAt);
        }

        foreach (var (key, value) in _overrides)
        {
            json[key] = value?.DeepClone();
        }

        return json;
    }

    /// <summary>The payload as indented-free JSON text.</summary>
    public string BuildString() => BuildJson().ToJsonString();

    /// <summary>The payload as UTF-8 bytes (what a webhook body would carry).</summary>
    public byte[] BuildBytes() => Encoding.UTF8.GetBytes(BuildString());

    /// <summary>The payload parsed with the production options.</summary>
    public LoopReturn Build() => LoopJson.Deserialize<LoopReturn>(BuildBytes());

    /// <summary>The return as Loop's API and sandbox hold it: no topic or trigger, whatever trigger is set.</summary>
    public JsonObject ReturnJson() => WithTriggerOnce(null, BuildJson);

    /// <summary>The webhook body Loop sends for <paramref name="trigger"/> (the builder's own trigger stays as it was).</summary>
    public byte[] Webhook(string trigger) => WithTriggerOnce(trigger, BuildBytes);

    /// <summary>Adds the return to the Loop sandbox as Loop holds it (no webhook sent), so flag, note and details calls find it.</summary>
    public LoopReturnBuilder AddTo(LoopSandbox loop)
    {
        loop.AddReturn(ReturnJson(), sendCreatedWebhook: false);
        return this;
    }

    /// <summary>A <c>label.updated</c> webhook of this return (return id in <c>return_id</c>, as one published shape has it).</summary>
    public byte[] LabelUpdated(string status) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["topic"] = "label",
        ["trigger"] = "label.updated",
        ["return_id"] = _id,
        ["order_id"] = "4" + _id,
        ["provider_order_id"] = ProviderOrderIdNode(),
        ["carrier"] = "USPS",
        ["tracking_number"] = "9400" + _id,
        ["label_status"] = status,
        ["label_updated_at"] = Stamp(EditedAt.AddHours(1)),
    }.ToJsonString());

    /// <summary>A <c>restock.requested</c> webhook of this return (<paramref name="units"/> of variant 7100 at location 1).</summary>
    public byte[] RestockRequested(int units = 1) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["topic"] = "restock",
        ["trigger"] = "restock.requested",
        ["id"] = _id,
        ["order_id"] = "4" + _id,
        ["provider_order_id"] = ProviderOrderIdNode(),
        ["restock_items"] = new JsonArray(new JsonObject { ["location_id"] = "1", ["variant_id"] = "7100", ["available_adjustment"] = units }),
    }.ToJsonString());

    private JsonNode? ProviderOrderIdNode()
        => _overrides.TryGetPropertyValue("provider_order_id", out var set) ? set?.DeepClone() : Id("provider_order_id", _providerOrderId);

    private T WithTriggerOnce<T>(string? trigger, Func<T> build)
    {
        var kept = _trigger;
        _trigger = trigger;
        try
        {
            return build();
        }
        finally
        {
            _trigger = kept;
        }
    }

    private LoopReturnBuilder AddExchange(string sku, decimal price, decimal tax, string orderId, string orderName, bool outOfStock)
    {
        var id = Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture);
        _exchanges.Add(new JsonObject
        {
            ["exchange_id"] = id,
            ["exchange_order_id"] = orderId,
            ["exchange_order_name"] = orderName,
            ["product_id"] = "63" + id,
            ["variant_id"] = "64" + id,
            ["sku"] = sku,
            ["type"] = "exchange",
            ["title"] = sku,
            ["price"] = Money(price),
            ["discount"] = Money(0m),
            ["tax"] = Money(tax),
            ["total"] = Money(price + tax),
            ["out_of_stock"] = outOfStock,
            ["out_of_stock_resolution"] = outOfStock ? "gift_card" : null,
        });
        return this;
    }

    private JsonNode Line(JsonObject line)
    {
        var copy = Ids(line.DeepClone().AsObject(), "line_item_id", "provider_line_item_id", "product_id", "variant_id");
        if (_zonelessTimestamps)
        {
            copy["returned_at"] = Stamp(_createdAt);
        }

        return copy;
    }

    private JsonObject Ids(JsonObject target, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (target[key] is JsonValue v && v.TryGetValue<string>(out var text))
            {
                target[key] = Id(key, text);
            }
        }

        return target;
    }

    private JsonValue Id(string field, string id)
        => (_numericIds || _numericIdFields.Contains(field)) && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(id);

    private string Stamp(DateTimeOffset at)
        => _zonelessTimestamps
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static decimal Sum(List<JsonObject> items, string field)
        => items.Sum(i => decimal.Parse(i[field]!.GetValue<string>(), CultureInfo.InvariantCulture));

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
