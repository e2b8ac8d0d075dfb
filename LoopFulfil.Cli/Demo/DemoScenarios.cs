using LoopFulfil.Core.Exceptions;
using LoopFulfil.Sandbox.Fulfil;

namespace LoopFulfil.Cli.Demo;

/// <summary>One demo scenario: what Loop does, and how Fulfil and the exception records must end up.</summary>
internal sealed class DemoScenario
{
    public required string Name { get; init; }

    public required string Expected { get; init; }

    /// <summary>Makes the Loop sandbox send its webhooks (may wait for an intermediate state).</summary>
    public required Func<DemoRun, CancellationToken, Task> ActAsync { get; init; }

    /// <summary>Null when the outcome is as expected; otherwise what is not (yet) so.</summary>
    public required Func<DemoRun, CancellationToken, Task<string?>> CheckAsync { get; init; }
}

/// <summary>
/// The demo scenarios, against the Fulfil sandbox's demo sales. Each return goes the way a real one does: Loop sends
/// <c>return.created</c>; the warehouse posts its inspection to the host; the integration asks Loop to process the
/// return; Loop closes it and sends <c>return.closed</c>; refunds and exchanges follow.
/// </summary>
internal static class DemoScenarios
{
    /// <summary>
    /// Whether the commerce sync (which gives Loop the merchant's catalogue, so Loop accepts exchange orders) is in
    /// this build. Until it is, the exchange scenario expects Loop's refusal, recorded for CX.
    /// </summary>
    public const bool CommerceSyncInBuild = true;

    /// <summary>What this build's demo leaves out, and why.</summary>
    public static readonly IReadOnlyList<string> NotYetAvailable = [];

    public static IReadOnlyList<DemoScenario> All(DemoRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var refund = new DemoReturn(run.NextReturnId(), "#1001", "refund").WithUnit("TEE-BLK-M", 25.00m);
        var duplicate = new DemoReturn(run.NextReturnId(), "#1003", "refund").WithUnit("SOCK-3PK", 12.00m);
        var cancelled = new DemoReturn(run.NextReturnId(), "#1001", "refund").WithUnit("HOOD/GRY:XL", 79.99m);
        var unknownSku = new DemoReturn(run.NextReturnId(), "#1003", "refund").WithUnit("TEE-NEW-XS", 30.00m);
        var archived = new DemoReturn(run.NextReturnId(), "#1004", "refund").WithUnit(FulfilSandboxDemo.ArchivedSku, 20.00m);
        var unknownOrder = new DemoReturn(run.NextReturnId(), "#9999", "refund").WithUnit("TEE-BLK-L", 25.00m);
        var cashRefund = new DemoReturn(run.NextReturnId(), "#1001", "refund").WithUnit("TEE-BLK-M", 25.00m);
        var storeCredit = new DemoReturn(run.NextReturnId(), "#1003", "credit").WithUnit("SOCK-3PK", 12.00m);
        var exchange = new DemoReturn(run.NextReturnId(), "#1003", "exchange").WithUnit("TEE-BLK-L", 25.00m).WithExchange("TEE-BLK-M", 25.00m);
        var damaged = new DemoReturn(run.NextReturnId(), "#1003", "refund").WithUnit("SOCK-3PK", 12.00m);
        const int Deliveries = 3;
        var duplicateStatuses = new List<int>();

        return
        [
            new DemoScenario
            {
                Name = "Cash refund",
                Expected = "inspected back to stock: unit moved QUAR→STOR, Loop processed and closed it, credit note LOOP-{id}-CN and refund payment LOOP-{id}-RF posted",
                ActAsync = async (r, ct) => await InspectAfterAuthorisationAsync(r, cashRefund, passed: true, "back_to_stock", ct),
                CheckAsync = async (r, ct) =>
                    OneReturnOrderWithItsShipment(r, cashRefund.Id)
                    ?? Restocked(r, cashRefund.Id, FulfilSandboxDemo.SellableLocationCode)
                    ?? LoopState(r, cashRefund.Id, "closed")
                    ?? CreditNotePaid(r, cashRefund.Id)
                    ?? Posted(r, "account.move", "description", cashRefund.Id, "RF")
                    ?? Absent(r, "account.move", "description", cashRefund.Id, "SC")
                    ?? await NoExceptionsAsync(r, cashRefund.Id, ct),
            },
            new DemoScenario
            {
                Name = "Store credit",
                Expected = "closed as a gift card: credit note LOOP-{id}-CN and store credit LOOP-{id}-SC against its receivable posted, no refund payment",
                ActAsync = async (r, ct) => await InspectAfterAuthorisationAsync(r, storeCredit, passed: true, "back_to_stock", ct),
                CheckAsync = async (r, ct) =>
                    LoopState(r, storeCredit.Id, "closed")
                    ?? Posted(r, "account.move", "description", storeCredit.Id, "SC")
                    ?? CreditNotePaid(r, storeCredit.Id)
                    ?? Absent(r, "account.move", "description", storeCredit.Id, "RF")
                    ?? await NoExceptionsAsync(r, storeCredit.Id, ct),
            },
            new DemoScenario
            {
                Name = "Exchange",
                Expected = CommerceSyncInBuild
                    ? "TEE-BLK-L returned for TEE-BLK-M: exchange sales order LOOP-{id}-EXC in Fulfil and in Loop, its invoice paid by the credit note LOOP-{id}-CN (reconciled as LOOP-{id}-SETTLE), no refund payment"
                    : "TEE-BLK-L returned for TEE-BLK-M: exchange sales order LOOP-{id}-EXC in Fulfil, its invoice paid by the credit note LOOP-{id}-CN (reconciled as LOOP-{id}-SETTLE), no refund payment; "
                      + "Loop refuses the order (its catalogue comes from the commerce sync, not in this build): ExchangeOrderFailed for cx",
                ActAsync = async (r, ct) => await InspectAfterAuthorisationAsync(r, exchange, passed: true, "back_to_stock", ct),
                CheckAsync = async (r, ct) =>
                    LoopState(r, exchange.Id, "closed")
                    ?? ExchangeOrder(r, exchange.Id, "TEE-BLK-M")
                    ?? Settled(r, exchange.Id)
                    ?? Absent(r, "account.move", "description", exchange.Id, "RF")
                    ?? (CommerceSyncInBuild
                        ? await NoExceptionsAsync(r, exchange.Id, ct)
                        : await OnlyExceptionAsync(r, exchange.Id, ExceptionCategory.ExchangeOrderFailed, ct)),
            },
            new DemoScenario
            {
                Name = "Damaged item",
                Expected = "fails inspection (junk): flagged in Loop; after CX closes it there, unit moved QUAR→DMG and the refund credit note posted",
                ActAsync = async (r, ct) =>
                {
                    await InspectAfterAuthorisationAsync(r, damaged, passed: false, "junk", ct);

                    // CX reviews the flagged return in Loop and processes it anyway: Loop closes it.
                    if (await r.WaitUntilAsync(() => r.Sandbox.Loop.FlagCount(damaged.Id) > 0, ct))
                    {
                        r.Sandbox.Loop.SetState(damaged.Id, "closed");
                    }
                },
                CheckAsync = (r, _) => Task.FromResult(
                    (r.Sandbox.Loop.FlagCount(damaged.Id) == 1 ? null : $"flagged {r.Sandbox.Loop.FlagCount(damaged.Id)} times in Loop, expected once")
                    ?? Restocked(r, damaged.Id, FulfilSandboxDemo.DamagedLocationCode)
                    ?? Absent(r, "stock.shipment.internal", "reference", damaged.Id, "RESTOCK-" + FulfilSandboxDemo.SellableLocationCode)
                    ?? CreditNotePaid(r, damaged.Id)),
            },
            new DemoScenario
            {
                Name = "Return authorised (awaiting goods)",
                Expected = "one return order in Fulfil with its draft return shipment (into QUAR once the parcel arrives)",
                ActAsync = (r, _) => r.AddReturnAsync(refund, sendCreated: true),
                CheckAsync = async (r, ct) => OneReturnOrderWithItsShipment(r, refund.Id) ?? await NoExceptionsAsync(r, refund.Id, ct),
            },
            new DemoScenario
            {
                Name = "Duplicate deliveries",
                Expected = $"return.created delivered {Deliveries} times: all accepted, one return order",
                ActAsync = async (r, ct) =>
                {
                    await r.AddReturnAsync(duplicate, sendCreated: false);
                    for (var i = 0; i < Deliveries; i++)
                    {
                        var sent = await r.Sandbox.Loop.SendWebhookAsync("return", "return.created", r.Sandbox.Loop.GetReturn(duplicate.Id)!, ct);
                        lock (duplicateStatuses)
                        {
                            duplicateStatuses.AddRange(sent.Select(d => d.StatusCode));
                        }
                    }
                },
                CheckAsync = (r, _) =>
                {
                    int[] statuses;
                    lock (duplicateStatuses)
                    {
                        statuses = [.. duplicateStatuses];
                    }

                    return Task.FromResult(statuses.Length != Deliveries || statuses.Any(s => s != 202)
                        ? $"webhook answers were [{string.Join(", ", statuses)}], expected {Deliveries} × 202"
                        : OneReturnOrderWithItsShipment(r, duplicate.Id));
                },
            },
            new DemoScenario
            {
                Name = "Cancelled before receipt",
                Expected = "as on Tryton, the return order stays processing and its return shipment is cancelled in Fulfil",
                ActAsync = async (r, ct) =>
                {
                    await r.AddReturnAsync(cancelled, sendCreated: true);
                    await r.WaitUntilAsync(() => r.ReturnOrders(cancelled.Id).Count == 1, ct);
                    r.Sandbox.Loop.SetState(cancelled.Id, "cancelled");
                },
                CheckAsync = (r, _) =>
                {
                    var orders = r.ReturnOrders(cancelled.Id);
                    if (orders.Count != 1)
                    {
                        return Task.FromResult<string?>($"{orders.Count} return orders, expected 1");
                    }

                    // Tryton's sale.cancel moves only draft and quoted sales; the return shipment's own cancel undoes it.
                    var shipments = r.Sandbox.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), orders[0].Id));
                    return Task.FromResult<string?>(shipments.Count == 0 || shipments.Any(s => s.State != "cancelled")
                        ? $"return shipments are {string.Join(", ", shipments.Select(s => s.State))}, expected cancelled" : null);
                },
            },
            ExceptionScenario("Unknown SKU", unknownSku, ExceptionCategory.SkuNotFound),
            ExceptionScenario("Archived SKU", archived, ExceptionCategory.SkuArchived),
            ExceptionScenario("Unknown order", unknownOrder, ExceptionCategory.OrderNotFound),
        ];
    }

    private static async Task InspectAfterAuthorisationAsync(DemoRun run, DemoReturn demo, bool passed, string disposition, CancellationToken cancellationToken)
    {
        await run.AddReturnAsync(demo, sendCreated: true);
        if (!await run.WaitUntilAsync(() => run.ReturnOrders(demo.Id).Count == 1, cancellationToken))
        {
            return;
        }

        await run.InspectAsync(demo, passed, disposition, cancellationToken);
    }

    private static string? Restocked(DemoRun run, string returnId, string locationCode)
    {
        var reference = $"LOOP-{returnId}-RESTOCK-{locationCode}";
        var shipment = run.ByReference("stock.shipment.internal", "reference", reference);
        return shipment?.State == "done" ? null : $"no done internal shipment {reference}";
    }

    private static string? LoopState(DemoRun run, string returnId, string state)
    {
        var actual = run.Sandbox.Loop.GetState(returnId);
        return actual == state ? null : $"the Loop return is {actual}, expected {state}";
    }

    private static string? Posted(DemoRun run, string model, string field, string returnId, string kind, string state = "posted")
    {
        var reference = $"LOOP-{returnId}-{kind}";
        var record = run.ByReference(model, field, reference);
        return record?.State == state ? null : record is null ? $"no {model} {reference}" : $"{reference} is {record.State}, expected {state}";
    }

    /// <summary>The return's credit note, paid: the refund payment, store credit or exchange invoice settled it (LOOP-{id}-SETTLE).</summary>
    private static string? CreditNotePaid(DemoRun run, string returnId) => Posted(run, "account.invoice", "reference", returnId, "CN", "paid");

    /// <summary>The exchange is booked once: the credit note paid the exchange invoice (accounting.md row 6).</summary>
    private static string? Settled(DemoRun run, string returnId)
    {
        var note = run.ByReference("account.invoice", "reference", $"LOOP-{returnId}-CN");
        return note is null ? $"no credit note LOOP-{returnId}-CN"
            : note.State != "paid" ? $"credit note LOOP-{returnId}-CN is {note.State}, expected paid by the exchange invoice"
            : run.ByReference("account.move.reconciliation", "name", $"LOOP-{returnId}-SETTLE") is null ? $"no reconciliation LOOP-{returnId}-SETTLE" : null;
    }

    private static string? Absent(DemoRun run, string model, string field, string returnId, string kind)
    {
        var reference = $"LOOP-{returnId}-{kind}";
        return run.ByReference(model, field, reference) is null ? null : $"unexpected {model} {reference}";
    }

    private static string? ExchangeOrder(DemoRun run, string returnId, string sku)
    {
        var reference = $"LOOP-{returnId}-EXC";
        var order = run.ByReference("sale.sale", "reference", reference);
        if (order is null)
        {
            return $"no exchange order {reference}";
        }

        var state = run.Sandbox.Fulfil.State;
        var product = state.ProductId(sku);
        return state.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id) && Equals(l.GetValueOrDefault("product"), product)).Count == 1
            ? null
            : $"exchange order {reference} has no {sku} line";
    }

    private static DemoScenario ExceptionScenario(string name, DemoReturn demo, ExceptionCategory category) => new()
    {
        Name = name,
        Expected = $"nothing posted to Fulfil; one open {category} exception for its owner",
        ActAsync = (r, _) => r.AddReturnAsync(demo, sendCreated: true),
        CheckAsync = async (r, ct) =>
        {
            var orders = r.ReturnOrders(demo.Id).Count;
            if (orders != 0)
            {
                return $"{orders} return order(s) were posted, expected none";
            }

            var records = await r.ExceptionsOfAsync(demo.Id, ct);
            var owner = r.OwnerOf(category);
            return records.Count == 1 && records[0].Category == category && records[0].Status == ExceptionStatus.Open && records[0].Owner == owner
                ? null
                : $"exceptions [{string.Join(", ", records.Select(x => $"{x.Category}/{x.Status}/{x.Owner}"))}], expected one open {category} for {owner}";
        },
    };

    /// <summary>One return order whose customer return shipment waits, draft, to come into the warehouse input (the receipt stage takes it on to quarantine once the parcel arrives).</summary>
    private static string? OneReturnOrderWithItsShipment(DemoRun run, string returnId)
    {
        var orders = run.ReturnOrders(returnId);
        if (orders.Count != 1)
        {
            return $"{orders.Count} return orders, expected 1";
        }

        var shipments = run.Sandbox.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), orders[0].Id));
        return shipments.Count == 1
            ? null
            : "its customer return shipment is missing";
    }

    private static async Task<string?> OnlyExceptionAsync(DemoRun run, string returnId, ExceptionCategory category, CancellationToken cancellationToken)
    {
        var records = await run.ExceptionsOfAsync(returnId, cancellationToken);
        return records.Count == 1 && records[0].Category == category && records[0].Owner == run.OwnerOf(category)
            ? null
            : $"exceptions [{string.Join(", ", records.Select(r => r.Category))}], expected one {category} for {run.OwnerOf(category)}";
    }

    private static async Task<string?> NoExceptionsAsync(DemoRun run, string returnId, CancellationToken cancellationToken)
    {
        var records = await run.ExceptionsOfAsync(returnId, cancellationToken);
        return records.Count == 0 ? null : $"unexpected exceptions: {string.Join(", ", records.Select(r => r.Category))}";
    }
}
