namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>
/// The demo data set every sandbox starts with (unless disabled): one warehouse with sellable, quarantine and damaged
/// locations, a catalogue with awkward SKUs and one archived product, accounts for returns clearing and gift-card
/// liability, a few countries and subdivisions for addresses, and sales <c>#1001</c>–<c>#1004</c> to return against. Ids are stable across runs.
/// </summary>
public static class FulfilSandboxDemo
{
    public const string WarehouseCode = "WH";
    public const string InputLocationCode = "IN";
    public const string SellableLocationCode = "STOR";
    public const string SellableBinCode = "STOR-A1";
    public const string QuarantineLocationCode = "QUAR";
    public const string DamagedLocationCode = "DMG";
    public const string CustomerLocationCode = "CUST";
    public const string SupplierLocationCode = "SUP";
    public const string InventoryLocationCode = "INV";

    public const string ReceivableAccountCode = "1200";
    public const string RevenueAccountCode = "4000";
    public const string ReturnsClearingAccountCode = "2350";
    public const string GiftCardLiabilityAccountCode = "2400";
    public const string CashAccountCode = "1000";
    public const string ReturnFeeAccountCode = "4100";
    public const string GiftCardBonusAccountCode = "5100";

    public const int CompanyId = 1;
    public const int WarehouseId = 1;
    public const int RevenueJournalId = 1;
    public const int MiscJournalId = 2;
    public const int WebChannelId = 1;
    public const int ExchangeChannelId = 2;

    /// <summary>Archived product: known to Fulfil but not sellable.</summary>
    public const string ArchivedSku = "TEE-2019-RETIRED";

    /// <summary>(SKU, name, list price, starting sellable stock).</summary>
    public static readonly IReadOnlyList<(string Sku, string Name, decimal ListPrice, decimal Stock)> Catalog =
    [
        ("TEE-BLK-M", "Black tee M", 25.00m, 40m),
        ("TEE-BLK-L", "Black tee L", 25.00m, 35m),
        ("HOOD/GRY:XL", "Grey hoodie XL", 79.99m, 12m),
        ("CAP/RED:OS", "Red cap one size", 19.50m, 20m),
        ("SOCK-3PK", "Socks 3-pack", 12.00m, 100m),
        ("JEANS-32/32", "Jeans 32/32", 89.00m, 8m),
    ];

    internal static void Seed(FulfilSandboxState state, Action<string, Dictionary<string, object?>> insert)
    {
        insert("currency.currency", new() { ["name"] = "US Dollar", ["code"] = "USD", ["digits"] = 2 });
        insert("company.company", new() { ["name"] = "LoopFulfil Demo Co", ["currency"] = 1 });

        // Location ids follow insertion order: WH=1, IN=2, STOR=3, STOR-A1=4, QUAR=5, DMG=6, CUST=7, SUP=8, INV=9.
        // Quarantine and damaged sit outside the sellable storage tree as the warehouse's waste locations, as in the
        // Tryton set-up (eng/tryton/setup.py): the only places besides storage a return shipment may receive into.
        insert("stock.location", new() { ["name"] = "Main Warehouse", ["code"] = WarehouseCode, ["type"] = "warehouse", ["input_location"] = 2, ["storage_location"] = 3, ["waste_locations"] = new List<int> { 5, 6 } });
        insert("stock.location", new() { ["name"] = "Input", ["code"] = InputLocationCode, ["type"] = "storage", ["parent"] = 1 });
        insert("stock.location", new() { ["name"] = "Storage (sellable)", ["code"] = SellableLocationCode, ["type"] = "storage", ["parent"] = 1 });
        insert("stock.location", new() { ["name"] = "Storage bin A1", ["code"] = SellableBinCode, ["type"] = "storage", ["parent"] = 3 });
        insert("stock.location", new() { ["name"] = "Returns quarantine", ["code"] = QuarantineLocationCode, ["type"] = "storage", ["parent"] = 1 });
        insert("stock.location", new() { ["name"] = "Damaged", ["code"] = DamagedLocationCode, ["type"] = "lost_found", ["parent"] = 1 });
        insert("stock.location", new() { ["name"] = "Customer", ["code"] = CustomerLocationCode, ["type"] = "customer" });
        insert("stock.location", new() { ["name"] = "Supplier", ["code"] = SupplierLocationCode, ["type"] = "supplier" });
        insert("stock.location", new() { ["name"] = "Inventory adjustments", ["code"] = InventoryLocationCode, ["type"] = "lost_found" });

        insert("account.account", new() { ["code"] = CashAccountCode, ["name"] = "Cash", ["type"] = "cash" });
        insert("account.account", new() { ["code"] = ReceivableAccountCode, ["name"] = "Accounts receivable", ["type"] = "receivable" });
        insert("account.account", new() { ["code"] = ReturnsClearingAccountCode, ["name"] = "Returns clearing", ["type"] = "other" });
        insert("account.account", new() { ["code"] = GiftCardLiabilityAccountCode, ["name"] = "Gift card liability", ["type"] = "liability" });
        insert("account.account", new() { ["code"] = RevenueAccountCode, ["name"] = "Sales revenue", ["type"] = "revenue" });
        insert("account.account", new() { ["code"] = ReturnFeeAccountCode, ["name"] = "Return handling fees", ["type"] = "revenue" });
        insert("account.account", new() { ["code"] = GiftCardBonusAccountCode, ["name"] = "Store-credit bonus", ["type"] = "expense" });
        insert("account.journal", new() { ["code"] = "REV", ["name"] = "Revenue", ["type"] = "revenue" });
        insert("account.journal", new() { ["code"] = "MISC", ["name"] = "Miscellaneous", ["type"] = "general" });

        insert("sale.channel", new() { ["name"] = "Web store", ["code"] = "web" });
        insert("sale.channel", new() { ["name"] = "Loop exchanges", ["code"] = "loop" });

        // Country ids follow insertion order: US=1, GB=2, CA=3, DE=4.
        state.AddCountry("US", "United States");
        state.AddCountry("GB", "United Kingdom");
        state.AddCountry("CA", "Canada");
        state.AddCountry("DE", "Germany");
        state.AddSubdivision("US", "US-NY", "New York");
        state.AddSubdivision("US", "US-CA", "California");
        state.AddSubdivision("CA", "CA-ON", "Ontario", "province");

        var a = state.AddParty("Demo Customer A");
        var b = state.AddParty("Demo Customer B");
        var c = state.AddParty("Demo Customer C");
        // As the Tryton set-up: every demo customer has an email (Loop's order lookup asks for it).
        state.AddContact(a, "email", "a@example.com");
        state.AddContact(b, "email", "b@example.com");
        state.AddContact(c, "email", "c@example.com");

        foreach (var (sku, name, price, stock) in Catalog)
        {
            state.AddProduct(sku, name, price);
            state.SetStock(sku, SellableLocationCode, stock);
        }

        state.AddProduct(ArchivedSku, "Tee 2019 (retired)", 20.00m, active: true);
        state.SetStock(ArchivedSku, SellableLocationCode, 3m);

        state.AddSale("#1001", "5550001001", a, "done", ("TEE-BLK-M", 2m, 25.00m), ("HOOD/GRY:XL", 1m, 79.99m));
        state.AddSale("#1002", "5550001002", b, "processing", ("JEANS-32/32", 1m, 89.00m), ("CAP/RED:OS", 2m, 19.50m));
        state.AddSale("#1003", "5550001003", c, "done", ("SOCK-3PK", 3m, 12.00m), ("TEE-BLK-L", 1m, 25.00m));
        state.AddSale("#1004", "5550001004", a, "done", (ArchivedSku, 1m, 20.00m));

        // Archived after it was sold, as happens to real catalogues.
        state.SetProductActive(ArchivedSku, false);
    }
}
