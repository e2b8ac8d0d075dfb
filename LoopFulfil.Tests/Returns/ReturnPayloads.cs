using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// Loop return webhooks (built with <see cref="LoopReturnBuilder"/>: one line item per unit) with explicit edit times and
/// stable line ids, written against
/// the Fulfil sandbox's demo catalogue and sales. The Loop sandbox's own demo returns use other SKUs (TEE-BLK/M,
/// MUG:12OZ) and order ids, so returns for these tests are built here and added to the Loop sandbox explicitly.
/// </summary>
internal sealed class ReturnPayload
{
    private static long next = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 % 1_000_000_000_000;

    private readonly List<(string Sku, decimal Price, string LineItemId, string ProviderLineItemId, string Reason)> lines = [];
    private int lineCounter;

    public ReturnPayload(string? returnId = null)
    {
        // Ledger rows live in one shared Azurite table: every test gets return ids no other test (or run) uses.
        ReturnId = returnId ?? Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture);
    }

    public string ReturnId { get; }

    public string State { get; private set; } = "open";

    public string OrderName { get; private set; } = "#1001";

    public string? ProviderOrderId { get; private set; } = "5550001001";

    public DateTimeOffset CreatedAt { get; private set; } = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    public DateTimeOffset EditedAt { get; private set; } = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Against demo sale #1001 (TEE-BLK-M ×2 at 25.00, HOOD/GRY:XL ×1 at 79.99).</summary>
    public static ReturnPayload OnOrder1001() => new ReturnPayload().ForOrder("#1001", "5550001001");

    public ReturnPayload ForOrder(string orderName, string? providerOrderId)
    {
        OrderName = orderName;
        ProviderOrderId = providerOrderId;
        return this;
    }

    public ReturnPayload InState(string state)
    {
        State = state;
        return this;
    }

    public ReturnPayload EditedAtMinutes(int minutesAfterCreation)
    {
        EditedAt = CreatedAt.AddMinutes(minutesAfterCreation);
        return this;
    }

    /// <summary>Adds <paramref name="units"/> line items (Loop has no quantity) of one platform order line.</summary>
    public ReturnPayload WithUnits(string sku, int units, decimal price, string providerLineItemId, string reason = "Too small")
    {
        for (int i = 0; i < units; i++)
        {
            lineCounter++;
            lines.Add((sku, price, $"{ReturnId}{lineCounter:00}", providerLineItemId, reason));
        }

        return this;
    }

    /// <summary>The return as Loop's API and sandbox hold it (no topic/trigger).</summary>
    public JsonObject ToReturnJson() => Builder(null).BuildJson();

    /// <summary>The webhook body Loop would send for <paramref name="trigger"/>.</summary>
    public byte[] Webhook(string trigger) => Builder(trigger).BuildBytes();

    // A fresh builder per body, with explicit line ids, so repeated webhooks of one return carry the same ids.
    private LoopReturnBuilder Builder(string? trigger)
    {
        LoopReturnBuilder b = LoopReturnBuilder.AReturn(ReturnId)
            .WithTrigger(trigger)
            .WithState(State)
            .ForOrder(OrderName, ProviderOrderId ?? "")
            .CreatedAt(CreatedAt);
        foreach (var (sku, price, lineId, providerLine, reason) in lines)
        {
            b.WithLine(sku, price, lineItemId: lineId, providerLineItemId: providerLine, reason: reason);
        }

        if (ProviderOrderId is null)
        {
            b.Set("provider_order_id", null);
        }

        return b.Set("updated_at", Stamp(EditedAt)).Set("edited_at", Stamp(EditedAt));
    }

    /// <summary>Adds this return to the Loop sandbox (without webhooks) so flag/note/details calls find it.</summary>
    public ReturnPayload AddTo(LoopSandbox loop)
    {
        loop.AddReturn(ToReturnJson(), sendCreatedWebhook: false);
        return this;
    }

    /// <summary>A label.updated webhook for this return (return id in <c>return_id</c>, as one published shape has it).</summary>
    public byte[] LabelUpdated(string status) => Bytes(new JsonObject
    {
        ["topic"] = "label",
        ["trigger"] = "label.updated",
        ["return_id"] = ReturnId,
        ["order_id"] = "4" + ReturnId,
        ["provider_order_id"] = ProviderOrderId,
        ["carrier"] = "USPS",
        ["tracking_number"] = "9400" + ReturnId,
        ["label_status"] = status,
        ["label_updated_at"] = Stamp(EditedAt.AddHours(1)),
    });

    /// <summary>A restock.requested webhook for this return.</summary>
    public byte[] RestockRequested() => Bytes(new JsonObject
    {
        ["topic"] = "restock",
        ["trigger"] = "restock.requested",
        ["id"] = ReturnId,
        ["order_id"] = "4" + ReturnId,
        ["provider_order_id"] = ProviderOrderId,
        ["restock_items"] = new JsonArray(new JsonObject { ["location_id"] = "1", ["variant_id"] = "7100", ["available_adjustment"] = 1 }),
    });

    private static byte[] Bytes(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString());

    private static string Stamp(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", CultureInfo.InvariantCulture);
}

/// <summary>Codes of the Fulfil sandbox demo data the returns tests rely on.</summary>
internal static class Demo
{
    public const string Quarantine = FulfilSandboxDemo.QuarantineLocationCode;
    public const string Sellable = FulfilSandboxDemo.SellableLocationCode;
    public const string TeeM = "TEE-BLK-M";
    public const string Hoodie = "HOOD/GRY:XL";
}
