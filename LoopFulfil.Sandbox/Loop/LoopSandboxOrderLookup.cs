using System.Text.Json.Nodes;

namespace LoopFulfil.Sandbox.Loop;

// The customer portal's order lookup as Loop Anywhere documents it: an order is found by its name and the customer's
// email (or the shipping postal code), and only an active order with fulfilments can be returned ("An order is only
// returnable if it is fulfilled"; archived and cancelled orders are not offered). Pushed data that lacks any of these
// leaves the customer unable to start a return, which is what this check lets tests see.
public sealed partial class LoopSandbox
{
    /// <summary>Why a customer could not start a return on a pushed order, or null when the portal finds it returnable.</summary>
    /// <param name="orderName">The order name the customer types (e.g. <c>#1001</c>).</param>
    /// <param name="emailOrPostalCode">The customer's email, or the shipping address's postal code.</param>
    public string? WhyNotReturnable(string orderName, string emailOrPostalCode)
    {
        ArgumentException.ThrowIfNullOrEmpty(orderName);
        ArgumentException.ThrowIfNullOrEmpty(emailOrPostalCode);
        lock (_gate)
        {
            var order = _commerce["orders"].Values.FirstOrDefault(o => string.Equals(Text(o["name"]), orderName, StringComparison.Ordinal));
            if (order is null)
            {
                return "no order with that name";
            }

            var status = Text(order["status"]) ?? "active";
            if (status != "active")
            {
                return "order is " + status;
            }

            if (order["fulfillments"] is not JsonArray { Count: > 0 })
            {
                return "order has no fulfillments";
            }

            var customerId = Text(order["customer"]?["id"]);
            var customer = customerId is null ? null : FindCommerceByIdUnsafe("customers", customerId);
            var wanted = emailOrPostalCode.Trim();
            var email = string.Equals(Text(customer?["email"])?.Trim(), wanted, StringComparison.OrdinalIgnoreCase);
            var postalCode = string.Equals(Text(order["shipping_address"]?["postal_code"])?.Replace(" ", "", StringComparison.Ordinal), wanted.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
            return email || postalCode ? null : "neither the customer's email nor the shipping postal code matches";
        }
    }
}
