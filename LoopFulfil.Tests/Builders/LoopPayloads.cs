using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace LoopFulfil.Tests.Builders;

/// <summary>Loop payloads the return builder does not make (shapes of Loop's webhook reference).</summary>
internal static class LoopPayloads
{
    /// <summary>
    /// <c>giftcard.requested</c>: <paramref name="total"/> is the credit issued, bonus and tax included; the subtotal is
    /// the rest (Loop: "gift card value minus taxes and bonus").
    /// </summary>
    public static JsonObject GiftCardRequested(string returnId, decimal total, decimal bonus, decimal tax) => new()
    {
        ["topic"] = "giftcard",
        ["trigger"] = "giftcard.requested",
        ["id"] = "77" + returnId,
        ["total_credit_issued"] = Money(total),
        ["gift_card_subtotal"] = Money(total - bonus - tax),
        ["gift_card_tax"] = Money(tax),
        ["gift_card_bonus_credit"] = Money(bonus),
        ["currency"] = "USD",
        ["return_id"] = returnId,
        ["email"] = "customer@example.com",
        ["first_name"] = "Demo",
        ["last_name"] = "Customer",
        ["external_order_id"] = "3001001",
        ["external_order_name"] = "#1001",
        ["external_order_number"] = "1001",
    };

    /// <summary><see cref="GiftCardRequested"/> as the webhook body's bytes.</summary>
    public static byte[] GiftCardRequestedWebhook(string returnId, decimal total, decimal bonus = 0m, decimal tax = 0m)
        => Encoding.UTF8.GetBytes(GiftCardRequested(returnId, total, bonus, tax).ToJsonString());

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
