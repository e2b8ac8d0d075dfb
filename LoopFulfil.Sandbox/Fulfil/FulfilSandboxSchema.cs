namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>The models, fields and relations the simulated Fulfil knows. Unknown fields are refused, as Tryton does.</summary>
internal static class FulfilSandboxSchema
{
    public static readonly string[] Common = ["id", "rec_name", "create_date", "write_date"];

    public static readonly Dictionary<string, string[]> Stored = new(StringComparer.Ordinal)
    {
        ["company.company"] = ["name", "currency"],
        ["currency.currency"] = ["name", "code", "digits"],
        ["party.party"] = ["name", "code", "active"],
        ["party.contact_mechanism"] = ["party", "type", "value", "active"],
        ["party.address"] = ["party", "name", "party_name", "street", "street_bis", "city", "zip", "country", "subdivision", "active"],
        ["country.country"] = ["name", "code"],
        ["country.subdivision"] = ["name", "code", "type", "country"],
        ["product.template"] = ["name", "list_price", "cost_price", "active", "default_uom"],
        ["product.product"] = ["code", "name", "template", "list_price", "cost_price", "active", "default_uom"],
        ["stock.location"] = ["name", "code", "type", "parent", "active", "input_location", "storage_location", "waste_locations"],
        ["sale.channel"] = ["name", "code"],
        ["sale.sale"] = ["reference", "number", "party", "shipment_address", "invoice_address", "sale_date", "description", "comment", "currency", "warehouse", "company", "channel", "channel_identifier", "priority", "state", "is_return", "origin_sale", "invoice_method"],
        ["sale.line"] = ["sale", "type", "product", "description", "quantity", "unit", "unit_price", "channel_identifier", "return_reason", "note", "origin_line", "warehouse", "taxes"],
        ["stock.move"] = ["product", "uom", "unit", "quantity", "from_location", "to_location", "state", "shipment", "company", "effective_date", "planned_date", "unit_price", "origin"],
        ["stock.shipment.internal"] = ["reference", "number", "from_location", "to_location", "planned_date", "planned_start_date", "effective_date", "company", "state"],
        ["stock.shipment.out.return"] = ["reference", "number", "customer", "warehouse", "destination_location", "origin_sale", "company", "state", "effective_date"],
        ["account.account"] = ["code", "name", "type", "active", "company"],
        ["account.journal"] = ["code", "name", "type"],
        ["account.period"] = ["name", "start_date", "end_date", "state", "company"],
        ["account.invoice"] = ["type", "number", "reference", "description", "party", "invoice_address", "invoice_date", "company", "state", "journal", "account", "currency", "move"],
        ["account.invoice.line"] = ["invoice", "type", "product", "description", "quantity", "unit_price", "account", "unit", "taxes"],
        ["account.tax"] = ["name", "rate", "account"],
        ["account.move"] = ["number", "journal", "period", "date", "description", "origin", "company", "state", "post_date"],
        ["account.move.line"] = ["move", "account", "debit", "credit", "party", "description", "reconciliation"],
        ["account.move.reconciliation"] = ["name", "company", "date"],

        // Openlabs/Fulfil gift card module (fulfil-api.md 5.10, unverified live): no recipient fields here, LoopFulfil sends none.
        ["gift_card.gift_card"] = ["number", "amount", "currency", "state", "origin", "comment", "message", "company"],
    };

    public static readonly Dictionary<string, string[]> Computed = new(StringComparer.Ordinal)
    {
        ["product.product"] = ["quantity", "variant_name", "account_category"],
        ["sale.sale"] = ["lines", "total_amount", "shipment_returns", "has_return"],
        ["sale.line"] = ["amount"],
        ["stock.shipment.internal"] = ["moves"],
        ["stock.shipment.out.return"] = ["incoming_moves", "inventory_moves", "moves"],
        ["account.invoice"] = ["lines", "total_amount", "tax_amount", "untaxed_amount", "sales", "lines_to_pay", "payment_lines"],
        ["account.move.reconciliation"] = ["lines"],
        ["account.move"] = ["lines"],
        ["party.party"] = ["account_receivable"],
        ["account.account"] = ["party_required"],
    };

    /// <summary>Many2one fields and their target model, for dotted paths (<c>product.code</c>).</summary>
    public static readonly Dictionary<(string Model, string Field), string> Many2One = new()
    {
        [("product.product", "template")] = "product.template",
        [("stock.location", "parent")] = "stock.location",
        [("sale.sale", "party")] = "party.party",
        [("sale.sale", "shipment_address")] = "party.address",
        [("sale.sale", "invoice_address")] = "party.address",
        [("party.address", "party")] = "party.party",
        [("party.contact_mechanism", "party")] = "party.party",
        [("party.address", "country")] = "country.country",
        [("party.address", "subdivision")] = "country.subdivision",
        [("country.subdivision", "country")] = "country.country",
        [("sale.sale", "warehouse")] = "stock.location",
        [("sale.sale", "channel")] = "sale.channel",
        [("sale.line", "sale")] = "sale.sale",
        [("sale.line", "product")] = "product.product",
        [("stock.move", "product")] = "product.product",
        [("stock.move", "from_location")] = "stock.location",
        [("stock.move", "to_location")] = "stock.location",
        [("stock.shipment.internal", "from_location")] = "stock.location",
        [("stock.shipment.internal", "to_location")] = "stock.location",
        [("stock.shipment.out.return", "warehouse")] = "stock.location",
        [("stock.shipment.out.return", "customer")] = "party.party",
        [("account.invoice", "party")] = "party.party",
        [("gift_card.gift_card", "currency")] = "currency.currency",
        [("account.invoice.line", "invoice")] = "account.invoice",
        [("account.invoice.line", "product")] = "product.product",
        [("account.invoice.line", "account")] = "account.account",
        [("account.move", "journal")] = "account.journal",
        [("account.move", "period")] = "account.period",
        [("account.move.line", "move")] = "account.move",
        [("account.move.line", "account")] = "account.account",
        [("account.move.line", "party")] = "party.party",
        [("account.move.line", "reconciliation")] = "account.move.reconciliation",
        [("account.invoice", "move")] = "account.move",
    };

    /// <summary>One2many fields written with Tryton commands (<c>[["create",[…]]]</c>): target model and back-reference.</summary>
    public static readonly Dictionary<(string Model, string Field), (string Target, string Inverse)> One2Many = new()
    {
        [("sale.sale", "lines")] = ("sale.line", "sale"),
        [("stock.shipment.internal", "moves")] = ("stock.move", "shipment"),
        [("account.invoice", "lines")] = ("account.invoice.line", "invoice"),
        [("account.move", "lines")] = ("account.move.line", "move"),
    };

    /// <summary>Numeric fields: must arrive as Tryton Decimal objects, never JSON numbers.</summary>
    public static readonly HashSet<string> Money = new(StringComparer.Ordinal) { "list_price", "cost_price", "unit_price", "debit", "credit", "amount", "rate" };

    /// <summary>Many2many fields: written with Tryton commands (<c>[["add",[ids]]]</c>), read as id lists.</summary>
    public static readonly HashSet<string> Many2Many = new(StringComparer.Ordinal) { "taxes" };

    /// <summary>Float fields: JSON numbers on the wire (Decimal objects are accepted too).</summary>
    public static readonly HashSet<string> Floats = new(StringComparer.Ordinal) { "quantity" };

    /// <summary>Models with an <c>active</c> flag: searches skip archived records unless the domain mentions <c>active</c>.</summary>
    public static readonly HashSet<string> Archivable = new(StringComparer.Ordinal) { "product.product", "product.template", "party.party", "party.address", "party.contact_mechanism", "stock.location", "account.account" };

    public static bool Knows(string model, string field) =>
        Common.Contains(field)
        || (Stored.TryGetValue(model, out var stored) && stored.Contains(field))
        || (Computed.TryGetValue(model, out var computed) && computed.Contains(field));
}
