using System.Globalization;
using System.Text.RegularExpressions;

namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>
/// The in-memory Fulfil: Tryton-style models, domains and workflows for the parts the integration touches. Stock
/// changes only through moves that reach <c>done</c>. Public members craft and inspect state for tests; the HTTP layer
/// uses the internal engine. One lock guards everything: the sandbox favours obviously-correct over fast.
/// </summary>
public sealed partial class FulfilSandboxState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<int, Dictionary<string, object?>>> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nextId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sequences = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    // Lookups the crafting helpers, computed fields and stock levels make per call. Scanning every record each time
    // made large crafted data sets (the commerce benchmark's 5,000 variants and 10,000 orders) quadratic, so the
    // benchmark measured the sandbox. Both are hints, checked against the record on use, so a write that changes a
    // code or a parent can never make them wrong, only miss (then the scan runs) or point at a record that is skipped.
    private readonly Dictionary<string, int> _productByCode = new(StringComparer.Ordinal);

    // Records per (model, Many2One field) value — One2Many children, a product's stock moves — built on first use and
    // kept up by Insert/Write.
    private readonly Dictionary<(string Model, string Field), Dictionary<int, SortedSet<int>>> _children = [];

    internal FulfilSandboxState(TimeProvider time, int companyId)
    {
        _time = time;
        CompanyId = companyId;
        foreach (var model in FulfilSandboxSchema.Stored.Keys)
        {
            _tables[model] = [];
        }
    }

    public int CompanyId { get; }

    /// <summary>
    /// The invoice method of return sales: <see cref="ReturnInvoicing.Manual"/> (default: no invoice is generated, as
    /// when LoopFulfil builds the credit note itself), <see cref="ReturnInvoicing.Order"/> (a draft credit invoice as
    /// soon as the return order is processing) or <see cref="ReturnInvoicing.Shipment"/> (once its return shipment is done).
    /// </summary>
    public ReturnInvoicing ReturnInvoiceMethod
    {
        get { lock (_gate) { return _returnInvoicing; } }
        set { lock (_gate) { _returnInvoicing = value; } }
    }

    private ReturnInvoicing _returnInvoicing = ReturnInvoicing.Manual;

    /// <param name="StockAssign">Tryton's <c>stock_assign</c> context: quantities count assigned outgoing moves as gone (available stock).</param>
    internal readonly record struct Ctx(IReadOnlyList<int>? Locations, bool WithChilds, bool StockAssign = false)
    {
        public static readonly Ctx Empty = new(null, true);
    }

    // ------------------------------------------------------------------ inspection (tests)

    /// <summary>Quantity of <paramref name="sku"/> in the location with <paramref name="locationCode"/> from done moves.</summary>
    public decimal StockOf(string sku, string locationCode, bool includeChildren = true)
    {
        lock (_gate)
        {
            return OnHand(ProductIdLocked(sku), LocationIdLocked(locationCode), includeChildren);
        }
    }

    /// <summary>Records whose <c>reference</c> (or, for journal entries, <c>description</c>) equals <paramref name="reference"/>.</summary>
    public IReadOnlyList<FulfilSandboxRecord> FindByReference(string model, string reference)
    {
        var field = model == "account.move" ? "description" : "reference";
        return Where(model, r => Equals(r.GetValueOrDefault(field), reference));
    }

    /// <summary>Records of <paramref name="model"/> matching <paramref name="predicate"/> over stored fields.</summary>
    public IReadOnlyList<FulfilSandboxRecord> Where(string model, Func<IReadOnlyDictionary<string, object?>, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_gate)
        {
            return Table(model).Where(kv => predicate(kv.Value)).Select(kv => Snapshot(model, kv.Key)).ToList();
        }
    }

    public IReadOnlyList<FulfilSandboxRecord> All(string model) => Where(model, _ => true);

    public FulfilSandboxRecord Get(string model, int id)
    {
        lock (_gate)
        {
            _ = Rec(model, id);
            return Snapshot(model, id);
        }
    }

    public int Count(string model)
    {
        lock (_gate)
        {
            return Table(model).Count;
        }
    }

    public int ProductId(string sku)
    {
        lock (_gate)
        {
            return ProductIdLocked(sku);
        }
    }

    public int LocationId(string code)
    {
        lock (_gate)
        {
            return LocationIdLocked(code);
        }
    }

    public int AccountId(string code)
    {
        lock (_gate)
        {
            return Table("account.account").Single(kv => Equals(kv.Value.GetValueOrDefault("code"), code)).Key;
        }
    }

    // ------------------------------------------------------------------ crafting (tests, demo)

    /// <summary>Adds a product variant, under <paramref name="templateId"/> or a new template of its own.</summary>
    public int AddProduct(string sku, string name, decimal listPrice, bool active = true, int? templateId = null)
    {
        lock (_gate)
        {
            var template = templateId ?? Insert("product.template", new() { ["name"] = name, ["list_price"] = listPrice, ["active"] = active, ["default_uom"] = 1 });
            return Insert("product.product", new()
            {
                ["code"] = sku, ["name"] = name, ["template"] = template, ["list_price"] = listPrice, ["cost_price"] = decimal.Round(listPrice * 0.4m, 2),
                ["active"] = active, ["default_uom"] = 1,
            });
        }
    }

    /// <summary>Archives (or restores) a product, touching its write_date.</summary>
    public void SetProductActive(string sku, bool active)
    {
        lock (_gate)
        {
            var product = Rec("product.product", ProductIdLocked(sku));
            product["active"] = active;
            product["write_date"] = Now();
        }
    }

    /// <summary>Adds a product template with no variants yet (see <see cref="AddProduct"/>'s templateId).</summary>
    public int AddTemplate(string name, decimal listPrice)
    {
        lock (_gate)
        {
            return Insert("product.template", new() { ["name"] = name, ["list_price"] = listPrice, ["active"] = true, ["default_uom"] = 1 });
        }
    }

    /// <summary>Changes a variant's list price, touching its write_date (as an edit in Fulfil does).</summary>
    public void SetProductPrice(string sku, decimal listPrice)
    {
        lock (_gate)
        {
            var product = Rec("product.product", ProductIdLocked(sku));
            product["list_price"] = listPrice;
            product["write_date"] = Now();
        }
    }

    /// <summary>Sets a variant's SKU (product code), touching its write_date (as fixing a product in Fulfil does).</summary>
    public void SetProductCode(int productId, string code)
    {
        lock (_gate)
        {
            var product = Rec("product.product", productId);
            product["code"] = code;
            product["write_date"] = Now();
        }
    }

    /// <summary>Back-dates a sale (return-window tests), touching its write_date.</summary>
    public void SetSaleDate(int saleId, DateOnly saleDate)
    {
        lock (_gate)
        {
            var sale = Rec("sale.sale", saleId);
            sale["sale_date"] = saleDate;
            sale["write_date"] = Now();
        }
    }

    /// <summary>
    /// Ships every line of a sale in full: one done move per line from the sellable location to the customer location,
    /// with <c>origin</c> <c>sale.line,ID</c> and a <c>stock.shipment.out</c> reference, as a delivered customer shipment leaves them;
    /// the sale's write_date moves, as Tryton's sale process does when the shipment state changes.
    /// </summary>
    public void ShipSale(int saleId)
    {
        lock (_gate)
        {
            // Tryton's sale process records the new shipment state, so the sale's write_date moves too.
            Rec("sale.sale", saleId)["write_date"] = Now();
            var from = LocationIdLocked(FulfilSandboxDemo.SellableLocationCode);
            var to = LocationIdLocked(FulfilSandboxDemo.CustomerLocationCode);
            foreach (var (lineId, line) in Table("sale.line").Where(kv => Equals(kv.Value["sale"], saleId)).ToList())
            {
                Insert("stock.move", new()
                {
                    ["product"] = line["product"], ["uom"] = 1, ["quantity"] = line["quantity"], ["from_location"] = from, ["to_location"] = to,
                    ["state"] = "done", ["company"] = CompanyId, ["effective_date"] = Today(),
                    ["origin"] = "sale.line," + lineId.ToString(CultureInfo.InvariantCulture),
                    ["shipment"] = "stock.shipment.out," + saleId.ToString(CultureInfo.InvariantCulture),
                });
            }
        }
    }

    public int AddParty(string name)
    {
        lock (_gate)
        {
            var party = Insert("party.party", new() { ["name"] = name, ["active"] = true });
            // Every demo customer has the address its sales ship to (Tryton creates parties with one address).
            Insert("party.address", new() { ["party"] = party, ["name"] = name, ["street"] = "Demo street 1", ["city"] = "Demo City", ["active"] = true });
            return party;
        }
    }

    /// <summary>Sets on-hand stock by posting a done inventory move from/to the lost-and-found location.</summary>
    public void SetStock(string sku, string locationCode, decimal quantity)
    {
        lock (_gate)
        {
            var product = ProductIdLocked(sku);
            var location = LocationIdLocked(locationCode);
            var delta = quantity - OnHand(product, location, withChilds: false);
            if (delta == 0)
            {
                return;
            }

            var inventory = LocationIdLocked(FulfilSandboxDemo.InventoryLocationCode);
            Insert("stock.move", new()
            {
                ["product"] = product, ["uom"] = 1, ["quantity"] = Math.Abs(delta),
                ["from_location"] = delta > 0 ? inventory : location, ["to_location"] = delta > 0 ? location : inventory,
                ["state"] = "done", ["company"] = CompanyId, ["effective_date"] = Today(),
            });
        }
    }

    /// <summary>Adds a sales order in <paramref name="state"/> (normally confirmed, processing or done).</summary>
    public int AddSale(string reference, string? channelIdentifier, int partyId, string state, params (string Sku, decimal Quantity, decimal UnitPrice)[] lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (_gate)
        {
            var sale = Insert("sale.sale", new()
            {
                ["reference"] = reference, ["number"] = NextNumber("SO"), ["party"] = partyId, ["shipment_address"] = FirstAddressOf(partyId), ["invoice_address"] = FirstAddressOf(partyId),
                ["sale_date"] = Today(), ["warehouse"] = LocationIdLocked(FulfilSandboxDemo.WarehouseCode), ["company"] = CompanyId,
                ["channel"] = FulfilSandboxDemo.WebChannelId, ["channel_identifier"] = channelIdentifier, ["priority"] = "2", ["state"] = state, ["is_return"] = false,
            });
            foreach (var (sku, quantity, price) in lines)
            {
                Insert("sale.line", new()
                {
                    ["sale"] = sale, ["type"] = "line", ["product"] = ProductIdLocked(sku), ["description"] = sku, ["quantity"] = quantity, ["unit_price"] = price, ["unit"] = 1,
                });
            }

            return sale;
        }
    }

    /// <summary>Invoices a return sale now (Fulfil's manual "Create invoice"): its draft credit invoice, made once.</summary>
    public int InvoiceReturnOrder(int returnSaleId)
    {
        lock (_gate)
        {
            if (!Equals(Rec("sale.sale", returnSaleId).GetValueOrDefault("is_return"), true))
            {
                throw new InvalidOperationException($"Sale {returnSaleId} is not a return order.");
            }

            return InvoiceReturnLocked(returnSaleId);
        }
    }

    /// <summary>Adds a customer credit note directly (e.g. one posted by hand in Fulfil, for reconciliation tests).</summary>
    public int AddCreditNote(string reference, int partyId, DateOnly invoiceDate, string state, params (string Description, decimal Quantity, decimal UnitPrice)[] lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (_gate)
        {
            var invoice = Insert("account.invoice", new()
            {
                ["type"] = "out", ["reference"] = reference, ["party"] = partyId, ["invoice_date"] = invoiceDate, ["company"] = CompanyId, ["state"] = state,
                ["number"] = state is "posted" or "paid" ? NextNumber("CN") : null,
            });
            foreach (var (description, quantity, price) in lines)
            {
                Insert("account.invoice.line", new() { ["invoice"] = invoice, ["type"] = "line", ["description"] = description, ["quantity"] = quantity, ["unit_price"] = price });
            }

            return invoice;
        }
    }

    /// <summary>Marks an invoice paid as a process outside LoopFulfil would leave it (crafted: no reconciliation lines).</summary>
    public void MarkInvoicePaid(int invoiceId)
    {
        lock (_gate)
        {
            var invoice = Rec("account.invoice", invoiceId);
            invoice["number"] = invoice.GetValueOrDefault("number") ?? NextNumber("CN");
            invoice["state"] = "paid";
        }
    }

    /// <summary>Adds a journal entry directly (no balance or period check: crafted states may be broken on purpose).</summary>
    public int AddJournalEntry(string description, DateOnly date, string state, params (string AccountCode, decimal Debit, decimal Credit)[] lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (_gate)
        {
            var move = Insert("account.move", new()
            {
                ["description"] = description, ["date"] = date, ["journal"] = FulfilSandboxDemo.MiscJournalId, ["period"] = PeriodFor(date, requireOpen: false),
                ["company"] = CompanyId, ["state"] = state, ["number"] = state == "posted" ? NextNumber("MV") : null,
            });
            foreach (var (account, debit, credit) in lines)
            {
                var accountId = Table("account.account").Single(kv => Equals(kv.Value.GetValueOrDefault("code"), account)).Key;
                Insert("account.move.line", new() { ["move"] = move, ["account"] = accountId, ["debit"] = debit, ["credit"] = credit });
            }

            return move;
        }
    }

    /// <summary>Closes the accounting period of <paramref name="year"/>-<paramref name="month"/>: moves dated in it are refused.</summary>
    public void ClosePeriod(int year, int month)
    {
        lock (_gate)
        {
            var period = PeriodFor(new DateOnly(year, month, 1), requireOpen: false);
            Rec("account.period", period)["state"] = "close";
        }
    }

    /// <summary>Inserts a record as-is (demo seed: locations, accounts, journals that have no create rules here).</summary>
    internal void SeedInsert(string model, Dictionary<string, object?> values)
    {
        lock (_gate)
        {
            Insert(model, values);
        }
    }

    // ------------------------------------------------------------------ engine: generic model interface

    internal Dictionary<string, object?> ReadRecord(string model, int id, Ctx ctx)
    {
        lock (_gate)
        {
            var record = Rec(model, id);
            var fields = FulfilSandboxSchema.Stored[model].Concat(FulfilSandboxSchema.Common)
                .Concat(FulfilSandboxSchema.Computed.GetValueOrDefault(model) ?? []);
            return fields.Distinct().ToDictionary(f => f, f => Value(model, id, record, f, ctx), StringComparer.Ordinal);
        }
    }

    internal List<Dictionary<string, object?>> SearchRead(string model, object? domain, int offset, int? limit, object? order, IReadOnlyList<string>? fields, Ctx ctx)
    {
        lock (_gate)
        {
            var ids = SearchLocked(model, domain, offset, limit, order, ctx);
            var wanted = fields ?? FulfilSandboxSchema.Stored[model].Prepend("id").ToList();
            foreach (var f in wanted)
            {
                if (!FulfilSandboxSchema.Knows(model, f.Split('.')[0]))
                {
                    throw new SandboxBadRequest($"Field '{f}' does not exist on {model}.");
                }
            }

            return ids.Select(id =>
            {
                var record = Rec(model, id);
                var row = new Dictionary<string, object?>(StringComparer.Ordinal) { ["id"] = id };
                foreach (var f in wanted)
                {
                    row[f] = Value(model, id, record, f, ctx);
                }

                return row;
            }).ToList();
        }
    }

    internal List<int> Search(string model, object? domain, int offset, int? limit, object? order, Ctx ctx)
    {
        lock (_gate)
        {
            return SearchLocked(model, domain, offset, limit, order, ctx);
        }
    }

    internal List<int> Create(string model, IEnumerable<Dictionary<string, object?>> records)
    {
        lock (_gate)
        {
            // Validate everything before inserting anything, so a refused batch leaves no half-created records.
            var list = records.ToList();
            if (model == "account.move.reconciliation")
            {
                list.ForEach(ValidateReconciliation);
                return list.Select(CreateReconciliationLocked).ToList();
            }

            foreach (var r in list)
            {
                ValidateCreate(model, r);
            }

            return list.Select(r => CreateLocked(model, r)).ToList();
        }
    }

    internal void Write(string model, IReadOnlyList<int> ids, Dictionary<string, object?> values)
    {
        lock (_gate)
        {
            if (WritesReturnShipmentMoves(model, values))
            {
                WriteReturnShipmentMoves(ids, values);
                return;
            }

            foreach (var field in values.Keys)
            {
                if (field == "state")
                {
                    throw new SandboxUserError("E_STATE_WRITE", $"The state of {model} cannot be written; use the workflow methods.");
                }

                if (!FulfilSandboxSchema.Stored[model].Contains(field) && !FulfilSandboxSchema.One2Many.ContainsKey((model, field)))
                {
                    throw new SandboxBadRequest($"Field '{field}' does not exist on {model} or cannot be written.");
                }
            }

            foreach (var id in ids)
            {
                var record = Rec(model, id);
                if (record.GetValueOrDefault("state") is "done" or "posted" or "paid" or "cancelled")
                {
                    throw new SandboxUserError("E_READONLY", $"{model} {id} is {record.GetValueOrDefault("state")} and can no longer be modified.");
                }

                foreach (var (field, value) in values)
                {
                    if (FulfilSandboxSchema.One2Many.ContainsKey((model, field)))
                    {
                        CreateChildrenLocked(model, id, field, value);
                        continue;
                    }

                    record[field] = Normalize(model, field, value);
                    IndexChildren(model, id, record, field);
                }

                record["write_date"] = Now();
            }
        }
    }

    internal string RecName(string model, int id)
    {
        lock (_gate)
        {
            return RecNameOf(model, id, Rec(model, id));
        }
    }

    // ------------------------------------------------------------------ engine internals

    private SortedDictionary<int, Dictionary<string, object?>> Table(string model) =>
        _tables.TryGetValue(model, out var t) ? t : throw new SandboxNotFound($"Model {model} does not exist.");

    private Dictionary<string, object?> Rec(string model, int id) =>
        Table(model).TryGetValue(id, out var r) ? r : throw new SandboxNotFound($"{model} {id} does not exist.");

    private FulfilSandboxRecord Snapshot(string model, int id)
    {
        var record = Rec(model, id);
        var fields = new Dictionary<string, object?>(record, StringComparer.Ordinal);
        foreach (var computed in FulfilSandboxSchema.Computed.GetValueOrDefault(model) ?? [])
        {
            fields[computed] = Value(model, id, record, computed, Ctx.Empty);
        }

        return new FulfilSandboxRecord(model, id, fields);
    }

    private int Insert(string model, Dictionary<string, object?> values)
    {
        var id = _nextId[model] = _nextId.GetValueOrDefault(model) + 1;
        var now = Now();
        values["id"] = id;
        values["create_date"] = now;
        // Tryton fills write_date on the first write after creation, not on create: a never-edited record has none.
        values["write_date"] = null;
        Table(model)[id] = values;
        IndexChildren(model, id, values);

        return id;
    }

    // Microsecond precision, as PostgreSQL stores it and as the wire carries it: a finer stored value would never
    // compare equal to the value a client read back.
    private DateTime Now()
    {
        var utc = _time.GetUtcNow().UtcDateTime;
        return new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
    }

    private DateOnly Today() => DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);

    private string NextNumber(string prefix)
    {
        var n = _sequences[prefix] = _sequences.GetValueOrDefault(prefix) + 1;
        return prefix + n.ToString("00000", CultureInfo.InvariantCulture);
    }

    private int ProductIdLocked(string sku)
    {
        var products = Table("product.product");
        if (_productByCode.TryGetValue(sku, out var known) && products.TryGetValue(known, out var hinted) && Equals(hinted.GetValueOrDefault("code"), sku))
        {
            return known;
        }

        var id = products.FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("code"), sku)).Key;
        if (id == 0)
        {
            throw new InvalidOperationException($"Sandbox has no product with SKU '{sku}'.");
        }

        _productByCode[sku] = id;
        return id;
    }



    private int LocationIdLocked(string code) =>
        Table("stock.location").FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("code"), code)).Key is var id && id != 0
            ? id : throw new InvalidOperationException($"Sandbox has no location with code '{code}'.");

    private static object? Normalize(string model, string field, object? value)
    {
        if (value is null)
        {
            return null;
        }

        if (FulfilSandboxSchema.Money.Contains(field))
        {
            return value is decimal
                ? value
                : throw new SandboxBadRequest($"{model}.{field} must be sent as a Tryton Decimal object, not a JSON {value.GetType().Name}.");
        }

        if (FulfilSandboxSchema.Many2Many.Contains(field))
        {
            return TaxIds(model, field, value);
        }

        if (FulfilSandboxSchema.Floats.Contains(field))
        {
            return value switch
            {
                long l => (decimal)l,
                double d => (decimal)d,
                decimal m => m,
                _ => throw new SandboxBadRequest($"{model}.{field} must be a number."),
            };
        }

        return value is long l2 && l2 is >= int.MinValue and <= int.MaxValue ? (int)l2 : value;
    }

    private object? Value(string model, int id, Dictionary<string, object?> record, string field, Ctx ctx)
    {
        var dot = field.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var head = field[..dot];
            if (!FulfilSandboxSchema.Many2One.TryGetValue((model, head), out var target) || record.GetValueOrDefault(head) is not int targetId)
            {
                return null;
            }

            return Value(target, targetId, Rec(target, targetId), field[(dot + 1)..], ctx);
        }

        if (field == "id")
        {
            return id;
        }

        if (field == "rec_name")
        {
            return RecNameOf(model, id, record);
        }

        return (model, field) switch
        {
            ("product.product", "quantity") => ctx.Locations is { Count: > 0 } locations
                ? locations.Sum(l => OnHand(id, l, ctx.WithChilds) - (ctx.StockAssign ? AssignedOut(id, l, ctx.WithChilds) : 0m))
                : Table("stock.location").Where(kv => Equals(kv.Value.GetValueOrDefault("type"), "warehouse")).Sum(kv => OnHand(id, kv.Key, true)),
            ("product.product", "variant_name") => record.GetValueOrDefault("name"),
            ("sale.sale", "lines") => Children("sale.line", "sale", id),
            ("sale.sale", "total_amount") => TotalWithTax(Children("sale.line", "sale", id).Select(l => Rec("sale.line", l))),
            ("sale.sale", "shipment_returns") => Children("stock.shipment.out.return", "origin_sale", id),
            ("sale.sale", "has_return") => Children("sale.sale", "origin_sale", id).Count > 0,
            ("sale.line", "amount") => LineAmount(record),
            ("stock.shipment.internal", "moves") => ShipmentMoves(model, id, _ => true),
            ("stock.shipment.out.return", "incoming_moves") => ShipmentMoves(model, id, m => Equals(m.GetValueOrDefault("kind"), "incoming")),
            ("stock.shipment.out.return", "inventory_moves") => ShipmentMoves(model, id, m => Equals(m.GetValueOrDefault("kind"), "inventory")),
            ("stock.shipment.out.return", "moves") => ShipmentMoves(model, id, _ => true),
            ("account.invoice", "lines") => Children("account.invoice.line", "invoice", id),
            ("account.invoice", "total_amount") => TotalWithTax(Children("account.invoice.line", "invoice", id).Select(l => Rec("account.invoice.line", l))),
            ("account.invoice", "untaxed_amount") => Children("account.invoice.line", "invoice", id).Sum(l => LineAmount(Rec("account.invoice.line", l))),
            ("account.invoice", "tax_amount") => TaxAmount(Children("account.invoice.line", "invoice", id).Select(l => Rec("account.invoice.line", l))),
            ("party.party", "account_receivable") => ReceivableAccountLocked(),
            ("account.invoice", "sales") => record.GetValueOrDefault("sales") as List<int> ?? [],
            ("account.move", "lines") => Children("account.move.line", "move", id),
            ("account.invoice", "lines_to_pay") => LinesToPay(record),
            ("account.invoice", "payment_lines") => new List<int>(), // LoopFulfil pays nothing through the invoice's payment wizard
            ("account.move.reconciliation", "lines") => Children("account.move.line", "reconciliation", id),
            ("product.product", "account_category") => null, // the sandbox has no taxes, so no accounting categories
            ("account.account", "party_required") => PartyRequired(record),
            _ => record.GetValueOrDefault(field),
        };
    }

    /// <summary>As Tryton's chart sets it: receivable and payable accounts take a party, the others refuse one.</summary>
    private static bool PartyRequired(Dictionary<string, object?> account) => account.GetValueOrDefault("type") is "receivable" or "payable";

    private static decimal LineAmount(Dictionary<string, object?> line) =>
        decimal.Round((line.GetValueOrDefault("quantity") as decimal? ?? 0m) * (line.GetValueOrDefault("unit_price") as decimal? ?? 0m), 2);

    private List<int> Children(string model, string inverse, int id)
    {
        var table = Table(model);
        if (!_children.TryGetValue((model, inverse), out var index))
        {
            _children[(model, inverse)] = index = [];
            foreach (var (childId, child) in table)
            {
                IndexChild(index, child.GetValueOrDefault(inverse), childId);
            }
        }

        return index.TryGetValue(id, out var ids)
            ? ids.Where(c => Equals(table[c].GetValueOrDefault(inverse), id)).ToList()
            : [];
    }

    private static void IndexChild(Dictionary<int, SortedSet<int>> index, object? parent, int childId)
    {
        if (parent is int parentId)
        {
            if (!index.TryGetValue(parentId, out var ids))
            {
                index[parentId] = ids = [];
            }

            ids.Add(childId);
        }
    }

    private void IndexChildren(string model, int id, Dictionary<string, object?> record, string? onlyField = null)
    {
        foreach (var ((indexedModel, field), index) in _children)
        {
            if (indexedModel == model && (onlyField is null || onlyField == field))
            {
                IndexChild(index, record.GetValueOrDefault(field), id);
            }
        }
    }

    private List<int> ShipmentMoves(string shipmentModel, int id, Func<Dictionary<string, object?>, bool> filter)
    {
        var reference = ShipmentRef(shipmentModel, id);
        return Table("stock.move").Where(kv => Equals(kv.Value.GetValueOrDefault("shipment"), reference) && filter(kv.Value)).Select(kv => kv.Key).ToList();
    }

    private static string ShipmentRef(string model, int id) => model + "," + id.ToString(CultureInfo.InvariantCulture);

    private static string RecNameOf(string model, int id, Dictionary<string, object?> record) => model switch
    {
        "product.product" => $"[{record.GetValueOrDefault("code")}] {record.GetValueOrDefault("name")}",
        "sale.sale" => $"{record.GetValueOrDefault("number") ?? id.ToString(CultureInfo.InvariantCulture)} ({record.GetValueOrDefault("reference")})",
        _ => (record.GetValueOrDefault("number") ?? record.GetValueOrDefault("name") ?? record.GetValueOrDefault("code") ?? record.GetValueOrDefault("reference"))?.ToString()
            ?? id.ToString(CultureInfo.InvariantCulture),
    };

    private HashSet<int> Subtree(int locationId)
    {
        var set = new HashSet<int> { locationId };
        bool grew;
        do
        {
            grew = false;
            foreach (var (id, loc) in Table("stock.location"))
            {
                if (loc.GetValueOrDefault("parent") is int parent && set.Contains(parent) && set.Add(id))
                {
                    grew = true;
                }
            }
        }
        while (grew);
        return set;
    }

    private decimal OnHand(int productId, int locationId, bool withChilds) => Flow(productId, locationId, withChilds, "done");

    private decimal Flow(int productId, int locationId, bool withChilds, string state)
    {
        var set = withChilds ? Subtree(locationId) : [locationId];
        var total = 0m;
        var table = Table("stock.move");
        foreach (var moveId in Children("stock.move", "product", productId))
        {
            var move = table[moveId];
            if (!Equals(move.GetValueOrDefault("product"), productId) || !Equals(move.GetValueOrDefault("state"), state))
            {
                continue;
            }

            var q = (decimal)move.GetValueOrDefault("quantity")!;
            var into = move.GetValueOrDefault("to_location") is int to && set.Contains(to);
            var outOf = move.GetValueOrDefault("from_location") is int from && set.Contains(from);
            if (into && !outOf)
            {
                total += q;
            }
            else if (outOf && !into)
            {
                total -= q;
            }
        }

        return total;
    }

    // ------------------------------------------------------------------ domains

    private List<int> SearchLocked(string model, object? domain, int offset, int? limit, object? order, Ctx ctx)
    {
        var table = Table(model);
        var clauses = domain as List<object?> ?? [];
        var active = FulfilSandboxSchema.Archivable.Contains(model) && !MentionsActive(clauses);
        var matches = table
            .Where(kv => (!active || !Equals(kv.Value.GetValueOrDefault("active"), false)) && Match(model, kv.Key, kv.Value, clauses, ctx))
            .Select(kv => kv.Key);
        var ordered = Order(model, matches, order, ctx);
        var paged = ordered.Skip(Math.Max(0, offset));
        return (limit is { } l and >= 0 ? paged.Take(l) : paged).ToList();
    }

    private IEnumerable<int> Order(string model, IEnumerable<int> ids, object? order, Ctx ctx)
    {
        var keys = (order as List<object?> ?? [])
            .OfType<List<object?>>()
            .Select(o => (Field: (string)o[0]!, Desc: o.Count > 1 && string.Equals(o[1] as string, "DESC", StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (keys.Count == 0)
        {
            return ids.Order();
        }

        var list = ids.ToList();
        list.Sort((a, b) =>
        {
            foreach (var (field, desc) in keys)
            {
                var c = CompareValues(Value(model, a, Rec(model, a), field, ctx), Value(model, b, Rec(model, b), field, ctx));
                if (c != 0)
                {
                    return desc ? -c : c;
                }
            }

            return a.CompareTo(b);
        });
        return list;
    }

    private static bool MentionsActive(List<object?> domain) =>
        domain.Any(e => e is List<object?> l && (l.Count == 3 && l[0] is string f ? f == "active" : MentionsActive(l)));

    private bool Match(string model, int id, Dictionary<string, object?> record, List<object?> domain, Ctx ctx)
    {
        var any = domain.Count > 0 && Equals(domain[0], "OR");
        var items = domain.Where(e => e is not string).ToList();
        if (items.Count == 0)
        {
            return true;
        }

        bool Eval(object? item) => item switch
        {
            List<object?> { Count: 3 } clause when clause[0] is string field && clause[1] is string op =>
                Compare(Value(model, id, record, field, ctx), op, clause[2]),
            List<object?> sub => Match(model, id, record, sub, ctx),
            _ => throw new SandboxBadRequest("Malformed domain."),
        };

        return any ? items.Any(Eval) : items.All(Eval);
    }

    private static bool Compare(object? actual, string op, object? expected)
    {
        switch (op)
        {
            // A many2many matches when any related record does, as Tryton's ('sales', '=', id) does.
            case "=": return actual is List<int> many ? many.Any(i => ValueEquals(i, expected)) : ValueEquals(actual, expected);
            case "!=": return !ValueEquals(actual, expected);
            case "in": return expected is List<object?> set && InSet(set, actual);
            case "not in": return expected is List<object?> set2 && !set2.Any(v => ValueEquals(actual, v));
            case "<": return actual is not null && CompareValues(actual, expected) < 0;
            case "<=": return actual is not null && CompareValues(actual, expected) <= 0;
            case ">": return actual is not null && CompareValues(actual, expected) > 0;
            case ">=": return actual is not null && CompareValues(actual, expected) >= 0;
            case "like": return Like(actual, expected, false);
            case "ilike": return Like(actual, expected, true);
            case "not like": return !Like(actual, expected, false);
            case "not ilike": return !Like(actual, expected, true);
            default: throw new SandboxBadRequest($"Unsupported domain operator '{op}'.");
        }
    }

    // Same answers as comparing with every element, in O(1) for the common all-numbers or all-strings lists, so
    // batched reads by id lists ("id in [500 ids]") stay cheap on large crafted data sets.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<List<object?>, HashSet<object>> InSets = [];

    private static bool InSet(List<object?> set, object? actual)
    {
        var fast = InSets.GetValue(set, static s =>
            s.Count > 8 && (s.All(v => v is not null && IsNumber(v)) || s.All(v => v is string))
                ? s.Select(v => IsNumber(v!) ? Convert.ToDecimal(v, CultureInfo.InvariantCulture) : v!).ToHashSet()
                : []);
        var numbers = fast.Count > 0 && fast.First() is decimal;
        static object Key(object v) => IsNumber(v) ? Convert.ToDecimal(v, CultureInfo.InvariantCulture) : v;
        return (actual, numbers) switch
        {
            (List<int> ids, true) => ids.Any(i => fast.Contains(Key(i))),
            ({ } a, true) when IsNumber(a) => fast.Contains(Key(a)),
            (string a, false) when fast.Count > 0 => fast.Contains(a),
            _ => set.Any(v => ValueEquals(actual, v) || (actual is List<int> ids && ids.Any(i => ValueEquals(i, v)))),
        };
    }

    private static bool Like(object? actual, object? pattern, bool ignoreCase)
    {
        if (actual is not string s || pattern is not string p)
        {
            return false;
        }

        var regex = "^" + Regex.Escape(p).Replace("%", ".*", StringComparison.Ordinal).Replace("_", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(s, regex, (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None) | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    private static bool ValueEquals(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && (b is null || Equals(b, false));
        }

        return CompareValues(a, b) == 0;
    }

    private static int CompareValues(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null ? (b is null ? 0 : -1) : 1;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return Convert.ToDecimal(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDecimal(b, CultureInfo.InvariantCulture));
        }

        return (a, b) switch
        {
            (DateTime x, DateTime y) => x.CompareTo(y),
            (DateOnly x, DateOnly y) => x.CompareTo(y),
            (DateTime x, DateOnly y) => x.Date.CompareTo(y.ToDateTime(TimeOnly.MinValue)),
            (string x, string y) => string.CompareOrdinal(x, y),
            (bool x, bool y) => x.CompareTo(y),
            _ => string.CompareOrdinal(Convert.ToString(a, CultureInfo.InvariantCulture), Convert.ToString(b, CultureInfo.InvariantCulture)),
        };
    }

    private static bool IsNumber(object o) => o is int or long or double or decimal;
}

/// <summary>When the simulated Fulfil invoices a return sale (Tryton's sale <c>invoice_method</c>).</summary>
public enum ReturnInvoicing
{
    /// <summary>Never on its own.</summary>
    Manual,

    /// <summary>When the return order is processing.</summary>
    Order,

    /// <summary>When its customer return shipment is done.</summary>
    Shipment,
}
