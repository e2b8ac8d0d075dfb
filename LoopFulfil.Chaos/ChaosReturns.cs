using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Demo;
using LoopFulfil.Sandbox.Fulfil;

namespace LoopFulfil.Chaos;

/// <summary>The shapes of return the chaos run mixes (issue 13, item 11).</summary>
internal enum ChaosKind
{
    CashRefund,
    StoreCredit,

    /// <summary>Even exchange, the item added to the original order (Loop's current shape).</summary>
    Exchange,

    /// <summary>Even exchange on its own <c>EXC-</c> order (the legacy shape).</summary>
    ExchangeSeparateOrder,

    /// <summary>Fails inspection (junk); CX closes it in Loop anyway; refunded.</summary>
    Damaged,

    /// <summary>Cancelled in Loop after the return order was made.</summary>
    CancelledAfterAuthorisation,

    /// <summary>One of two cash-refund returns on the same order.</summary>
    TwoOnOneOrder,

    /// <summary>A SKU Fulfil does not know: nothing may be posted.</summary>
    UnknownSku,
}

/// <summary>A Fulfil document the Loop payload calls for: its kind, its key (reference, or return id for return orders) and, for money, its amount.</summary>
internal sealed record ExpectedDocument(string Kind, string Key, decimal? Amount);

/// <summary>One return of the run: the Loop payload the driver generated and the documents it calls for.</summary>
internal sealed class ChaosReturn(string id, ChaosKind kind, JsonObject payload, IReadOnlyList<ExpectedDocument> expected)
{
    public string Id { get; } = id;

    public ChaosKind Kind { get; } = kind;

    /// <summary>The return as created in Loop (the Loop sandbox stamps later states).</summary>
    public JsonObject Payload { get; } = payload;

    /// <summary>Worked out from <see cref="Payload"/> alone, never from the integration's records.</summary>
    public IReadOnlyList<ExpectedDocument> Expected { get; } = expected;

    /// <summary>Line item ids of the payload (one per unit), for the inspection verdicts.</summary>
    public IReadOnlyList<string> LineItemIds => [.. Payload["line_items"]!.AsArray().Select(l => (string)l!["line_item_id"]!)];

    /// <summary>Where the driver's script for this return stopped short, or null when it ran to the end.</summary>
    public string? Stalled { get; set; }

    /// <summary>Damaged: CX closed it in Loop before the integration's flag arrived (the close raced the inspection).</summary>
    public bool ClosedBeforeFlag { get; set; }

    /// <summary>From the last delivery of <c>return.created</c> until Fulfil held the return order (the profile of a run).</summary>
    public TimeSpan? ReturnOrderWait { get; set; }

    /// <summary>From the accepted inspection until Loop had closed the return (the integration asked it to).</summary>
    public TimeSpan? ClosedWait { get; set; }
}

/// <summary>Builds the run's returns with the demo's payload builder (<see cref="DemoReturn"/>), and a Fulfil sale for each order.</summary>
internal static class ChaosReturns
{
    public const string ReturnOrder = "return order";
    public const string CreditNote = "credit note";
    /// <summary>A journal entry <c>LOOP-{id}-…</c>: refund payment (RF), store credit (SC).</summary>
    public const string Journal = "journal entry";
    public const string ExchangeOrder = "exchange order";
    public const string Restock = "restock shipment";

    private static readonly (ChaosKind Kind, int Weight)[] Mix =
    [
        (ChaosKind.CashRefund, 20), (ChaosKind.StoreCredit, 15), (ChaosKind.Exchange, 10), (ChaosKind.ExchangeSeparateOrder, 8),
        (ChaosKind.Damaged, 12), (ChaosKind.CancelledAfterAuthorisation, 12), (ChaosKind.TwoOnOneOrder, 15), (ChaosKind.UnknownSku, 8),
    ];

    /// <summary>
    /// <paramref name="count"/> returns in a seeded random mix (without the <paramref name="unsupported"/> kinds), with
    /// ids from <paramref name="firstId"/>, created <paramref name="createdAt"/>, each unit carrying
    /// <paramref name="taxRate"/> of tax as the ERP charges it; and the one Fulfil sale per order the ERP must hold.
    /// </summary>
    public static (IReadOnlyList<ChaosReturn> Returns, IReadOnlyList<ChaosSale> Sales) Build(int count, Random random, long firstId, DateTimeOffset createdAt, decimal taxRate = 0m, IReadOnlySet<ChaosKind>? unsupported = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        var catalog = FulfilSandboxDemo.Catalog;
        var sales = new List<ChaosSale>();
        void AddSale(string orderName, string number, params (string Sku, decimal Quantity, decimal Price)[] lines) =>
            sales.Add(new ChaosSale(orderName, "555000" + number, lines));
        DemoReturn Return(string id, string orderName, string outcome) => new(id, orderName, outcome) { TaxRate = taxRate };
        var returns = new List<ChaosReturn>(count);
        var nextId = firstId;
        var order = 0;
        while (returns.Count < count)
        {
            var kind = Pick(random, unsupported);
            if (kind == ChaosKind.TwoOnOneOrder && count - returns.Count < 2)
            {
                kind = ChaosKind.CashRefund;
            }

            order++;
            var number = (40_000 + order).ToString(CultureInfo.InvariantCulture);
            var orderName = "#" + number;
            var index = random.Next(catalog.Count);
            var (sku, _, price, _) = catalog[index];
            var units = random.Next(1, 3);
            string Id() => (nextId++).ToString(CultureInfo.InvariantCulture);
            switch (kind)
            {
                case ChaosKind.TwoOnOneOrder:
                    var (other, _, otherPrice, _) = catalog[(index + 1) % catalog.Count];
                    AddSale(orderName, number, (sku, 1m, price), (other, 1m, otherPrice));
                    returns.Add(Refund(Return(Id(), orderName, "refund").WithUnit(sku, price), kind, createdAt));
                    returns.Add(Refund(Return(Id(), orderName, "refund").WithUnit(other, otherPrice), kind, createdAt));
                    break;
                case ChaosKind.Exchange or ChaosKind.ExchangeSeparateOrder:
                    AddSale(orderName, number, ("TEE-BLK-L", 1m, 25.00m));
                    returns.Add(Exchange(Return(Id(), orderName, "exchange").WithUnit("TEE-BLK-L", 25.00m).WithExchange("TEE-BLK-M", 25.00m), kind, number, createdAt));
                    break;
                case ChaosKind.UnknownSku:
                    AddSale(orderName, number, (sku, 1m, price));
                    var unknown = Return(Id(), orderName, "refund").WithUnit("CHAOS-UNKNOWN-" + number, price);
                    returns.Add(new ChaosReturn(unknown.Id, kind, unknown.ToJson(createdAt), []));
                    break;
                default:
                    AddSale(orderName, number, (sku, units, price));
                    var demo = Return(Id(), orderName, kind == ChaosKind.StoreCredit ? "credit" : "refund");
                    for (var u = 0; u < units; u++)
                    {
                        demo.WithUnit(sku, price);
                    }

                    returns.Add(Refund(demo, kind, createdAt));
                    break;
            }
        }

        return (returns, sales);
    }

    private static ChaosKind Pick(Random random, IReadOnlySet<ChaosKind>? unsupported)
    {
        var mix = Mix.Where(m => unsupported?.Contains(m.Kind) != true).ToArray();
        var roll = random.Next(mix.Sum(m => m.Weight));
        foreach (var (kind, weight) in mix)
        {
            if (roll < weight)
            {
                return kind;
            }

            roll -= weight;
        }

        return ChaosKind.CashRefund;
    }

    private static ChaosReturn Refund(DemoReturn demo, ChaosKind kind, DateTimeOffset createdAt)
    {
        var payload = demo.ToJson(createdAt);
        var expected = new List<ExpectedDocument> { new(ReturnOrder, demo.Id, null) };
        switch (kind)
        {
            case ChaosKind.CancelledAfterAuthorisation:
                break;
            case ChaosKind.Damaged:
                AddMoney(expected, demo.Id, payload);
                expected.Add(new(Restock, $"LOOP-{demo.Id}-RESTOCK-{FulfilSandboxDemo.DamagedLocationCode}", null));
                break;
            default:
                AddMoney(expected, demo.Id, payload);
                expected.Add(new(Restock, $"LOOP-{demo.Id}-RESTOCK-{FulfilSandboxDemo.SellableLocationCode}", null));
                break;
        }

        return new ChaosReturn(demo.Id, kind, payload, expected);
    }

    /// <summary>
    /// The money documents docs/accounting.md gives a processed return, from Loop's figures: one credit note for every
    /// returned unit less the handling fee, the refund payment of <c>refund</c>, the store credit of <c>gift_card</c>.
    /// </summary>
    private static void AddMoney(List<ExpectedDocument> expected, string id, JsonObject payload)
    {
        expected.Add(new(CreditNote, $"LOOP-{id}-CN", Money(payload, "return_total") - Money(payload, "handling_fee")));
        if (Money(payload, "refund") is > 0m and var refund)
        {
            expected.Add(new(Journal, $"LOOP-{id}-RF", refund));
        }

        if (Money(payload, "gift_card") is > 0m and var giftCard)
        {
            expected.Add(new(Journal, $"LOOP-{id}-SC", giftCard));
        }
    }

    private static ChaosReturn Exchange(DemoReturn demo, ChaosKind kind, string orderNumber, DateTimeOffset createdAt)
    {
        var payload = demo.ToJson(createdAt);
        var key = "EXC";
        if (kind == ChaosKind.ExchangeSeparateOrder)
        {
            // The legacy shape: the exchange lives on its own EXC- order instead of the original one.
            key = "EXC-" + orderNumber;
            foreach (var exchange in payload["exchanges"]!.AsArray())
            {
                exchange!["exchange_order_name"] = key;
                exchange["exchange_order_id"] = "777000" + orderNumber;
            }
        }

        List<ExpectedDocument> expected =
        [
            new(ReturnOrder, demo.Id, null),
            new(ExchangeOrder, $"LOOP-{demo.Id}-{key}", null),
            new(Restock, $"LOOP-{demo.Id}-RESTOCK-{FulfilSandboxDemo.SellableLocationCode}", null),
        ];
        // The returned units' credit note, which the exchange invoice is settled against (accounting.md row 6).
        AddMoney(expected, demo.Id, payload);
        return new ChaosReturn(demo.Id, kind, payload, expected);
    }

    private static decimal Money(JsonObject payload, string field) =>
        decimal.Parse((string?)payload[field] ?? "0", NumberStyles.Number, CultureInfo.InvariantCulture);
}
