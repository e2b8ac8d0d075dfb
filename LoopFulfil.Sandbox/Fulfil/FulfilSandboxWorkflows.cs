using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

// Create rules and workflow methods, modelled on Tryton's: states move only through methods, business rules answer
// UserError, and stock moves only when a move reaches done.
public sealed partial class FulfilSandboxState
{
    private static readonly string[] InternalLocationTypes = ["storage", "lost_found", "view"];

    private void ValidateCreate(string model, Dictionary<string, object?> values)
    {
        foreach (var field in values.Keys)
        {
            if (!FulfilSandboxSchema.Stored[model].Contains(field) && !FulfilSandboxSchema.One2Many.ContainsKey((model, field)))
            {
                throw new SandboxBadRequest($"Field '{field}' does not exist on {model}.");
            }
        }

        if (values.TryGetValue("state", out var state) && state is not null && !Equals(state, "draft"))
        {
            throw new SandboxUserError("E1000", $"Cannot create record with state '{state}'. Allowed states: draft");
        }

        switch (model)
        {
            case "sale.sale":
                ValidateSaleAddresses(values, RequireRef(values, "party", "party.party", model));
                if (values.GetValueOrDefault("channel_identifier") is string ci && ci.Length > 0 && FindSaleByChannelIdentifier(ci) is { } existing)
                {
                    throw new SandboxUserError("E_DUPLICATE_CHANNEL_IDENTIFIER", $"Channel identifier '{ci}' is already used by sale {existing}.");
                }

                break;
            case "party.address":
                ValidateAddress(values);
                break;
            case "stock.shipment.internal":
                foreach (var f in new[] { "from_location", "to_location" })
                {
                    var loc = RequireRef(values, f, "stock.location", model);
                    if (!InternalLocationTypes.Contains(Rec("stock.location", loc).GetValueOrDefault("type") as string))
                    {
                        throw new SandboxUserError("E_LOCATION_TYPE", $"Location {Rec("stock.location", loc).GetValueOrDefault("code")} cannot be used on an internal shipment.");
                    }
                }

                break;
            case "account.invoice":
                if (values.GetValueOrDefault("type") is not ("out" or "in"))
                {
                    throw new SandboxUserError("E_INVOICE_TYPE", "Invoice type must be 'out' or 'in'.");
                }

                RequireRef(values, "party", "party.party", model);
                break;
            case "account.invoice.line" when values.GetValueOrDefault("invoice") is long invoiceId
                && Table("account.invoice").TryGetValue((int)invoiceId, out var invoice) && invoice.GetValueOrDefault("state") is "posted" or "paid" or "cancelled":
                // Tryton's account.invoice.line check_modify: no line is added to an invoice once posted.
                throw new SandboxUserError("E_READONLY", $"You cannot add a line to invoice {invoiceId} because it is {invoice.GetValueOrDefault("state")}.");
            case "gift_card.gift_card":
                if (values.GetValueOrDefault("amount") is not decimal amount || amount <= 0)
                {
                    throw new SandboxUserError("E_GIFT_CARD_AMOUNT", "A gift card needs a positive amount.");
                }

                RequireRef(values, "currency", "currency.currency", model);
                break;
            case "account.move":
                RequireRef(values, "journal", "account.journal", model);
                if (values.GetValueOrDefault("date") is not DateOnly date)
                {
                    throw new SandboxUserError("E_MOVE_DATE", "A journal entry needs a date.");
                }

                PeriodFor(date, requireOpen: true);
                break;
        }

        foreach (var ((owner, field), (target, _)) in FulfilSandboxSchema.One2Many)
        {
            if (owner == model && values.TryGetValue(field, out var commands))
            {
                foreach (var child in CreateCommands(commands, model, field))
                {
                    ValidateChild(target, child);
                }
            }
        }
    }

    private void ValidateChild(string model, Dictionary<string, object?> values)
    {
        foreach (var field in values.Keys)
        {
            if (!FulfilSandboxSchema.Stored[model].Contains(field))
            {
                throw new SandboxBadRequest($"Field '{field}' does not exist on {model}.");
            }

            _ = Normalize(model, field, values[field]);
        }

        if (values.ContainsKey("product"))
        {
            var product = RequireRef(values, "product", "product.product", model);
            if (model is "sale.line" or "stock.move" && Equals(Rec("product.product", product).GetValueOrDefault("active"), false))
            {
                throw new SandboxUserError("E_PRODUCT_INACTIVE", $"Product {Rec("product.product", product).GetValueOrDefault("code")} is archived and cannot be used.");
            }
        }

        if (model is "account.move.line" or "account.invoice.line" && values.ContainsKey("account"))
        {
            RequireRef(values, "account", "account.account", model);
        }

        if (values.GetValueOrDefault("taxes") is { } taxes && TaxIds(model, "taxes", taxes).FirstOrDefault(t => !Table("account.tax").ContainsKey(t)) is var missing && missing != 0)
        {
            throw new SandboxUserError("E_MISSING_TAXES", $"{model}.taxes must reference existing account.tax records (got {missing}).");
        }

        if (model == "account.move.line" && values.GetValueOrDefault("account") is long accountId)
        {
            // Tryton: a party only on lines of accounts that take one, and always there.
            var account = Rec("account.account", (int)accountId);
            var hasParty = values.GetValueOrDefault("party") is not null;
            if (hasParty != PartyRequired(account))
            {
                throw new SandboxUserError("E_MOVE_LINE_PARTY", hasParty
                    ? $"To create a line on account \"{account.GetValueOrDefault("code")}\", you must remove the party."
                    : $"To create a line on account \"{account.GetValueOrDefault("code")}\", you must set a party.");
            }
        }

        if (model == "sale.line" && values.ContainsKey("product") && values.GetValueOrDefault("unit") is null)
        {
            // Tryton: a product line needs its unit.
            throw new SandboxUserError("E_REQUIRED", "A value is required for field \"Unit\" in \"Sale Line\".");
        }

        if (model == "account.move.line")
        {
            var debit = values.GetValueOrDefault("debit") as decimal? ?? 0m;
            var credit = values.GetValueOrDefault("credit") as decimal? ?? 0m;
            if (debit < 0 || credit < 0)
            {
                throw new SandboxUserError("E_MOVE_LINE_SIGN", "Debit and credit must be positive.");
            }
        }

        if (model == "stock.move" && (values.GetValueOrDefault("quantity") is null || (decimal)Normalize(model, "quantity", values.GetValueOrDefault("quantity"))! <= 0))
        {
            throw new SandboxUserError("E_MOVE_QUANTITY", "A stock move needs a positive quantity.");
        }
    }

    private int RequireRef(Dictionary<string, object?> values, string field, string target, string model)
    {
        if (values.GetValueOrDefault(field) is not (long or int) || !Table(target).ContainsKey(Convert.ToInt32(values[field], CultureInfo.InvariantCulture)))
        {
            throw new SandboxUserError("E_MISSING_" + field.ToUpperInvariant(), $"{model}.{field} must reference an existing {target} (got {values.GetValueOrDefault(field) ?? "nothing"}).");
        }

        return Convert.ToInt32(values[field], CultureInfo.InvariantCulture);
    }

    private static IEnumerable<Dictionary<string, object?>> CreateCommands(object? commands, string model, string field)
    {
        if (commands is not List<object?> list)
        {
            throw new SandboxBadRequest($"{model}.{field} takes a list of commands such as [[\"create\", [{{…}}]]].");
        }

        foreach (var command in list)
        {
            if (command is List<object?> { Count: 2 } c && Equals(c[0], "create") && c[1] is List<object?> records)
            {
                foreach (var r in records)
                {
                    yield return r as Dictionary<string, object?> ?? throw new SandboxBadRequest($"{model}.{field} create takes objects.");
                }
            }
            else
            {
                throw new SandboxBadRequest($"Only the 'create' command is supported on {model}.{field}.");
            }
        }
    }

    private int CreateLocked(string model, Dictionary<string, object?> values)
    {
        var stored = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (field, value) in values)
        {
            if (FulfilSandboxSchema.Stored[model].Contains(field))
            {
                stored[field] = Normalize(model, field, value);
            }
        }

        stored["company"] = stored.GetValueOrDefault("company") ?? (FulfilSandboxSchema.Stored[model].Contains("company") ? CompanyId : null);
        if (FulfilSandboxSchema.Stored[model].Contains("state"))
        {
            stored["state"] = "draft";
        }

        if (FulfilSandboxSchema.Archivable.Contains(model))
        {
            stored["active"] = stored.GetValueOrDefault("active") ?? true;
        }

        switch (model)
        {
            case "sale.sale":
                stored["is_return"] = false;
                stored["sale_date"] ??= Today();
                break;
            case "stock.shipment.internal":
                stored["number"] = NextNumber("IS");
                break;
            case "gift_card.gift_card":
                stored["number"] = NextNumber("GC");
                break;
            case "account.move":
                stored["period"] = PeriodFor((DateOnly)stored.GetValueOrDefault("date")!, requireOpen: true);
                break;
        }

        var id = Insert(model, stored);
        foreach (var ((owner, field), _) in FulfilSandboxSchema.One2Many)
        {
            if (owner == model && values.TryGetValue(field, out var commands))
            {
                CreateChildrenLocked(model, id, field, commands);
            }
        }

        return id;
    }

    /// <summary>The <c>create</c> commands of a One2many field, on create and on write (as Tryton takes both).</summary>
    private void CreateChildrenLocked(string model, int id, string field, object? commands)
    {
        var (target, inverse) = FulfilSandboxSchema.One2Many[(model, field)];
        var children = CreateCommands(commands, model, field).ToList();
        foreach (var child in children)
        {
            ValidateChild(target, child);
        }

        foreach (var child in children)
        {
            var row = child.ToDictionary(kv => kv.Key, kv => Normalize(target, kv.Key, kv.Value), StringComparer.Ordinal);
            row[inverse] = model.StartsWith("stock.shipment", StringComparison.Ordinal) ? ShipmentRef(model, id) : id;
            if (target == "stock.move")
            {
                row["state"] = "draft";
                row["company"] ??= CompanyId;
            }

            Insert(target, row);
        }
    }

    /// <summary>The period covering <paramref name="date"/>, created (open) on first use.</summary>
    private int PeriodFor(DateOnly date, bool requireOpen)
    {
        var start = new DateOnly(date.Year, date.Month, 1);
        var found = Table("account.period").FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("start_date"), start));
        var id = found.Key != 0
            ? found.Key
            : Insert("account.period", new()
            {
                ["name"] = start.ToString("yyyy-MM", CultureInfo.InvariantCulture), ["start_date"] = start, ["end_date"] = start.AddMonths(1).AddDays(-1),
                ["state"] = "open", ["company"] = CompanyId,
            });
        if (requireOpen && Equals(Rec("account.period", id).GetValueOrDefault("state"), "close"))
        {
            throw new SandboxUserError("E_PERIOD_CLOSED", $"The period {Rec("account.period", id).GetValueOrDefault("name")} is closed; no entry dated {date:yyyy-MM-dd} can be created or posted.");
        }

        return id;
    }

    private int? FindSaleByChannelIdentifier(string channelIdentifier) =>
        Table("sale.sale").Where(kv => Equals(kv.Value.GetValueOrDefault("channel_identifier"), channelIdentifier) && !Equals(kv.Value.GetValueOrDefault("state"), "cancelled"))
            .Select(kv => (int?)kv.Key).FirstOrDefault();

    // ------------------------------------------------------------------ methods

    internal object? Call(string model, string method, List<object?> args, Ctx ctx)
    {
        lock (_gate)
        {
            switch (method)
            {
                case "search_read":
                    if (args.Count == 1 && args[0] is Dictionary<string, object?> kw)
                    {
                        // Keyword form seen in third-party code: {"filters": …, "fields": …, "offset": …, "limit": …, "order": …}.
                        return SearchRead(model, kw.GetValueOrDefault("filters"), ToInt(kw.GetValueOrDefault("offset")) ?? 0, ToInt(kw.GetValueOrDefault("limit")), kw.GetValueOrDefault("order"), Strings(kw.GetValueOrDefault("fields")), ctx);
                    }

                    return SearchRead(model, Arg(args, 0), ToInt(Arg(args, 1)) ?? 0, ToInt(Arg(args, 2)), Arg(args, 3), Strings(Arg(args, 4)), ctx);
                case "search":
                    return Search(model, Arg(args, 0), ToInt(Arg(args, 1)) ?? 0, ToInt(Arg(args, 2)), Arg(args, 3), ctx);
                case "search_count":
                    return Search(model, Arg(args, 0), 0, null, null, ctx).Count;
                case "read":
                    var fields = Strings(Arg(args, 1));
                    return Ids(Arg(args, 0)).Select(id =>
                    {
                        var all = ReadRecord(model, id, ctx);
                        return fields is null ? all : fields.Append("id").Distinct().ToDictionary(f => f, f => all.GetValueOrDefault(f), StringComparer.Ordinal);
                    }).ToList();
                case "create":
                    return Create(model, (Arg(args, 0) as List<object?> ?? []).Select(r => r as Dictionary<string, object?> ?? throw new SandboxBadRequest("create takes a list of objects.")));
                case "write":
                    for (var i = 0; i + 1 < args.Count; i += 2)
                    {
                        Write(model, Ids(args[i]), args[i + 1] as Dictionary<string, object?> ?? throw new SandboxBadRequest("write takes [ids, values]."));
                    }

                    return null;
            }

            var ids = Ids(Arg(args, 0));
            return (model, method) switch
            {
                ("sale.sale", "quote") => Each(ids, SaleQuote),
                ("sale.sale", "confirm") => Each(ids, SaleConfirm),
                ("sale.sale", "process") => Each(ids, id => Transition("sale.sale", id, ["confirmed"], "processing")),
                ("sale.sale", "cancel") => Each(ids, SaleCancel),
                ("stock.shipment.out.return", "receive") => Each(ids, ReturnReceive),
                ("stock.shipment.out.return", "done") => Each(ids, ReturnDone),
                ("stock.shipment.out.return", "cancel") => Each(ids, ReturnCancel),
                ("stock.shipment.internal", "wait") => Each(ids, id => Transition("stock.shipment.internal", id, ["draft"], "waiting")),
                ("stock.shipment.internal", "assign_try") => ids.All(InternalAssignTry),
                ("stock.shipment.internal", "assign_force") => Each(ids, id => InternalAssign(id, force: true)),
                ("stock.shipment.internal", "done") => Each(ids, InternalDone),
                ("stock.shipment.internal", "cancel") => Each(ids, InternalCancel),
                ("account.invoice", "validate_invoice") => Each(ids, id => Transition("account.invoice", id, ["draft"], "validated")),
                ("account.invoice", "post") => Each(ids, InvoicePost),
                ("account.invoice", "cancel") => Each(ids, id => Transition("account.invoice", id, ["draft", "validated"], "cancelled")),
                ("account.move", "post") => Each(ids, MovePost),
                ("gift_card.gift_card", "activate") => Each(ids, id => Transition("gift_card.gift_card", id, ["draft"], "active")),
                ("gift_card.gift_card", "cancel") => Each(ids, id => Transition("gift_card.gift_card", id, ["draft", "active"], "canceled")),
                _ => throw new SandboxNotFound($"Method {method} does not exist on {model}."),
            };
        }
    }

    internal object? CallOnRecord(string model, int id, string method, List<object?> args, Ctx ctx)
    {
        lock (_gate)
        {
            _ = Rec(model, id);
            if (model == "sale.sale" && method == "return_order")
            {
                return ReturnOrder(id, Arg(args, 0) as Dictionary<string, object?> ?? throw new SandboxBadRequest("return_order takes one object argument."));
            }

            var rest = new List<object?> { new List<object?> { (long)id } };
            rest.AddRange(args);
            return Call(model, method, rest, ctx);
        }
    }

    private static object? Arg(List<object?> args, int i) => i < args.Count ? args[i] : null;

    private static int? ToInt(object? v) => v is null ? null : Convert.ToInt32(v, CultureInfo.InvariantCulture);

    private static List<string>? Strings(object? v) => (v as List<object?>)?.Select(o => o as string ?? throw new SandboxBadRequest("Field names must be strings.")).ToList();

    private static List<int> Ids(object? v) => v switch
    {
        List<object?> list => list.Select(o => Convert.ToInt32(o, CultureInfo.InvariantCulture)).ToList(),
        long or int => [Convert.ToInt32(v, CultureInfo.InvariantCulture)],
        _ => throw new SandboxBadRequest("Expected a list of record ids."),
    };

    private static object? Each(List<int> ids, Action<int> action)
    {
        foreach (var id in ids)
        {
            action(id);
        }

        return null;
    }

    private void Transition(string model, int id, string[] from, string to)
    {
        var record = Rec(model, id);
        var state = (string)record.GetValueOrDefault("state")!;
        if (state == to)
        {
            return;
        }

        if (!from.Contains(state))
        {
            throw new SandboxUserError("E_WRONG_STATE", $"{model} {RecNameOf(model, id, record)} is '{state}'; it must be {string.Join(" or ", from)} to become '{to}'.");
        }

        record["state"] = to;
        record["write_date"] = Now();
    }

    private void SaleQuote(int id)
    {
        if (Children("sale.line", "sale", id).Count == 0)
        {
            throw new SandboxUserError("E_SALE_EMPTY", $"Sale {id} has no lines and cannot be quoted.");
        }

        Transition("sale.sale", id, ["draft"], "quotation");
        var quoted = Rec("sale.sale", id);
        if (quoted.GetValueOrDefault("number") is null)
        {
            quoted["number"] = NextNumber("SO");
        }
    }

    private void SaleConfirm(int id)
    {
        foreach (var line in Children("sale.line", "sale", id).Select(l => Rec("sale.line", l)))
        {
            if (line.GetValueOrDefault("product") is int p && Equals(Rec("product.product", p).GetValueOrDefault("active"), false))
            {
                throw new SandboxUserError("E_PRODUCT_INACTIVE", $"Product {Rec("product.product", p).GetValueOrDefault("code")} is archived; the sale cannot be confirmed.");
            }
        }

        Transition("sale.sale", id, ["quotation"], "confirmed");
        // Tryton processes a confirmed sale at once (invoice method "order"); the state is left at confirmed here.
        InvoiceSaleLocked(id);
    }

    private void SaleCancel(int id)
    {
        // As Tryton 6.0's @Workflow.transition('cancelled'): only draft and quoted sales move; any other sale (a
        // processing return sale too) is skipped without an error and keeps its state and its documents. Undoing a
        // processing return is its documents' own workflows (cancel the draft return shipment and credit note).
        var state = Rec("sale.sale", id).GetValueOrDefault("state") as string;
        if (state is "draft" or "quotation")
        {
            Transition("sale.sale", id, ["draft", "quotation"], "cancelled");
        }
    }

    /// <summary>
    /// A return sale that brings nothing back: every customer return shipment it made was cancelled (Tryton keeps such
    /// a sale processing; the façade's return_order does not count its quantities either).
    /// </summary>
    private bool Withdrawn(int saleId)
    {
        var shipments = Children("stock.shipment.out.return", "origin_sale", saleId);
        return shipments.Count > 0 && shipments.All(s => Equals(Rec("stock.shipment.out.return", s).GetValueOrDefault("state"), "cancelled"));
    }

    private int ReturnOrder(int saleId, Dictionary<string, object?> args)
    {
        var sale = Rec("sale.sale", saleId);
        if (sale.GetValueOrDefault("state") is not ("confirmed" or "processing" or "done"))
        {
            throw new SandboxUserError("E_SALE_NOT_CONFIRMED", $"Sale {RecNameOf("sale.sale", saleId, sale)} is '{sale.GetValueOrDefault("state")}'; only confirmed sales can be returned.");
        }

        if (Equals(sale.GetValueOrDefault("is_return"), true))
        {
            throw new SandboxUserError("E_RETURN_OF_RETURN", "A return order cannot itself be returned.");
        }

        if (args.GetValueOrDefault("channel_identifier") is not string ci || ci.Length == 0)
        {
            throw new SandboxUserError("E_CHANNEL_IDENTIFIER", "return_order needs a channel_identifier.");
        }

        if (FindSaleByChannelIdentifier(ci) is { } existing)
        {
            if (Equals(Rec("sale.sale", existing).GetValueOrDefault("is_return"), true) && Equals(Rec("sale.sale", existing).GetValueOrDefault("origin_sale"), saleId))
            {
                return existing;
            }

            throw new SandboxUserError("E_DUPLICATE_CHANNEL_IDENTIFIER", $"Channel identifier '{ci}' is already used by sale {existing}.");
        }

        var warehouse = args.GetValueOrDefault("warehouse") is long w ? (int)w : sale.GetValueOrDefault("warehouse") as int? ?? FulfilSandboxDemo.WarehouseId;
        if (!Table("stock.location").TryGetValue(warehouse, out var wh) || !Equals(wh.GetValueOrDefault("type"), "warehouse"))
        {
            throw new SandboxUserError("E_WAREHOUSE", $"Location {warehouse} is not a warehouse.");
        }

        // As Tryton: a return shipment receives into the warehouse's storage; nothing in return_order names another place.
        var destination = (int)wh.GetValueOrDefault("storage_location")!;

        var lines = (args.GetValueOrDefault("lines") as List<object?> ?? []).Cast<Dictionary<string, object?>>().ToList();
        if (lines.Count == 0)
        {
            throw new SandboxUserError("E_RETURN_EMPTY", "return_order needs at least one line.");
        }

        var planned = new List<(Dictionary<string, object?> Original, decimal Quantity, decimal Price, Dictionary<string, object?> Args)>();
        foreach (var line in lines)
        {
            var lineId = line.GetValueOrDefault("order_line_id") is long l ? (int)l : -1;
            if (!Table("sale.line").TryGetValue(lineId, out var original) || !Equals(original.GetValueOrDefault("sale"), saleId))
            {
                throw new SandboxUserError("E_RETURN_LINE", $"Sale line {lineId} is not on sale {RecNameOf("sale.sale", saleId, sale)}.");
            }

            var returned = Table("sale.line").Values
                .Where(r => Equals(r.GetValueOrDefault("origin_line"), lineId) && !Equals(Rec("sale.sale", (int)r.GetValueOrDefault("sale")!).GetValueOrDefault("state"), "cancelled") && !Withdrawn((int)r.GetValueOrDefault("sale")!))
                .Sum(r => -(decimal)r.GetValueOrDefault("quantity")!);
            var returnable = (decimal)original.GetValueOrDefault("quantity")! - returned - planned.Where(p => ReferenceEquals(p.Original, original)).Sum(p => p.Quantity);
            var quantity = line.TryGetValue("return_quantity", out var q) && q is not null ? (decimal)Normalize("sale.line", "quantity", q)! : returnable;
            if (quantity <= 0 || quantity > returnable)
            {
                throw new SandboxUserError("E_RETURN_QUANTITY", $"Cannot return {quantity} of sale line {lineId}: {returnable} returnable.");
            }

            var price = line.TryGetValue("unit_price", out var up) && up is not null ? (decimal)Normalize("sale.line", "unit_price", up)! : (decimal)original.GetValueOrDefault("unit_price")!;
            planned.Add((original, quantity, price, line));
        }

        var returnId = Insert("sale.sale", new()
        {
            ["reference"] = args.GetValueOrDefault("reference") as string ?? sale.GetValueOrDefault("reference"), ["number"] = NextNumber("SO"), ["party"] = sale.GetValueOrDefault("party"),
            ["shipment_address"] = sale.GetValueOrDefault("shipment_address"), ["invoice_address"] = sale.GetValueOrDefault("invoice_address"),
            ["sale_date"] = Today(), ["warehouse"] = warehouse, ["company"] = CompanyId, ["channel"] = sale.GetValueOrDefault("channel"), ["channel_identifier"] = ci,
            ["priority"] = sale.GetValueOrDefault("priority"), ["state"] = "processing", ["is_return"] = true, ["origin_sale"] = saleId,
            ["invoice_method"] = ReturnInvoiceMethod switch { ReturnInvoicing.Order => "order", ReturnInvoicing.Shipment => "shipment", _ => "manual" },
        });
        foreach (var (original, quantity, price, line) in planned)
        {
            Insert("sale.line", new()
            {
                ["sale"] = returnId, ["type"] = "line", ["product"] = original.GetValueOrDefault("product"), ["description"] = original.GetValueOrDefault("description"), ["quantity"] = -quantity,
                ["unit"] = original.GetValueOrDefault("unit"), ["unit_price"] = price, ["channel_identifier"] = line.GetValueOrDefault("channel_identifier") as string,
                ["return_reason"] = line.GetValueOrDefault("return_reason") as string, ["note"] = line.GetValueOrDefault("note") as string, ["origin_line"] = original.GetValueOrDefault("id"),
                ["taxes"] = TaxesOf(original),
            });
        }

        var shipment = Insert("stock.shipment.out.return", new()
        {
            ["reference"] = ci, ["number"] = NextNumber("CR"), ["customer"] = sale.GetValueOrDefault("party"), ["warehouse"] = warehouse, ["destination_location"] = destination,
            ["origin_sale"] = returnId, ["company"] = CompanyId, ["state"] = "draft",
        });
        var customer = LocationIdLocked(FulfilSandboxDemo.CustomerLocationCode);
        foreach (var (original, quantity, _, _) in planned)
        {
            Insert("stock.move", new()
            {
                ["product"] = original.GetValueOrDefault("product"), ["uom"] = 1, ["quantity"] = quantity, ["from_location"] = customer, ["to_location"] = (int)wh.GetValueOrDefault("input_location")!,
                ["state"] = "draft", ["shipment"] = ShipmentRef("stock.shipment.out.return", shipment), ["kind"] = "incoming", ["company"] = CompanyId,
            });
        }

        if (ReturnInvoiceMethod == ReturnInvoicing.Order)
        {
            InvoiceReturnLocked(returnId);
        }

        return returnId;
    }

    /// <summary>
    /// What Fulfil's sale invoicing does for a return sale: one draft customer invoice (type out) whose lines carry the
    /// return's negative quantities, so its total is negative (a credit note), linked to the sale through <c>sales</c>
    /// and carrying the sale's reference. Idempotent: a sale that already has a live invoice keeps it.
    /// </summary>
    private int InvoiceReturnLocked(int returnSaleId)
    {
        var sale = Rec("sale.sale", returnSaleId);
        var existing = Table("account.invoice").FirstOrDefault(kv => kv.Value.GetValueOrDefault("sales") is List<int> s && s.Contains(returnSaleId) && !Equals(kv.Value.GetValueOrDefault("state"), "cancelled"));
        if (existing.Key != 0)
        {
            return existing.Key;
        }

        var invoice = Insert("account.invoice", new()
        {
            ["type"] = "out", ["reference"] = sale.GetValueOrDefault("reference"), ["description"] = sale.GetValueOrDefault("description"), ["party"] = sale.GetValueOrDefault("party"),
            ["invoice_address"] = sale.GetValueOrDefault("invoice_address"), ["invoice_date"] = Today(), ["company"] = CompanyId, ["state"] = "draft", ["currency"] = sale.GetValueOrDefault("currency"),
            ["sales"] = new List<int> { returnSaleId }, ["account"] = ReceivableAccountLocked(),
        });
        foreach (var line in Children("sale.line", "sale", returnSaleId).Select(l => Rec("sale.line", l)))
        {
            Insert("account.invoice.line", new()
            {
                ["invoice"] = invoice, ["type"] = "line", ["product"] = line.GetValueOrDefault("product"), ["description"] = line.GetValueOrDefault("description"),
                ["quantity"] = line.GetValueOrDefault("quantity"), ["unit_price"] = line.GetValueOrDefault("unit_price"), ["unit"] = line.GetValueOrDefault("unit"),
                ["taxes"] = TaxesOf(line),
            });
        }

        return invoice;
    }

    private void ReturnReceive(int id)
    {
        var shipment = Rec("stock.shipment.out.return", id);
        Transition("stock.shipment.out.return", id, ["draft"], "received");
        foreach (var moveId in ShipmentMoves("stock.shipment.out.return", id, m => Equals(m.GetValueOrDefault("kind"), "incoming")))
        {
            var move = Rec("stock.move", moveId);
            move["state"] = "done";
            move["effective_date"] = Today();
            Insert("stock.move", new()
            {
                ["product"] = move.GetValueOrDefault("product"), ["uom"] = move.GetValueOrDefault("uom"), ["quantity"] = move.GetValueOrDefault("quantity"), ["from_location"] = move.GetValueOrDefault("to_location"),
                ["to_location"] = shipment.GetValueOrDefault("destination_location"), ["state"] = "draft", ["shipment"] = ShipmentRef("stock.shipment.out.return", id),
                ["kind"] = "inventory", ["company"] = CompanyId,
            });
        }
    }

    private void ReturnDone(int id)
    {
        Transition("stock.shipment.out.return", id, ["received"], "done");
        if (ReturnInvoiceMethod == ReturnInvoicing.Shipment && Rec("stock.shipment.out.return", id).GetValueOrDefault("origin_sale") is int returnSale)
        {
            InvoiceReturnLocked(returnSale);
        }

        Rec("stock.shipment.out.return", id)["effective_date"] = Today();
        foreach (var moveId in ShipmentMoves("stock.shipment.out.return", id, m => Equals(m.GetValueOrDefault("kind"), "inventory")))
        {
            Rec("stock.move", moveId)["state"] = "done";
            Rec("stock.move", moveId)["effective_date"] = Today();
        }
    }

    private void ReturnCancel(int id)
    {
        Transition("stock.shipment.out.return", id, ["draft"], "cancelled");
        foreach (var moveId in ShipmentMoves("stock.shipment.out.return", id, _ => true))
        {
            Rec("stock.move", moveId)["state"] = "cancelled";
        }
    }

    private bool InternalAssignTry(int id) => InternalAssign(id, force: false);

    private bool InternalAssign(int id, bool force)
    {
        var shipment = Rec("stock.shipment.internal", id);
        if (Equals(shipment.GetValueOrDefault("state"), "assigned"))
        {
            return true;
        }

        if (!Equals(shipment.GetValueOrDefault("state"), "waiting"))
        {
            throw new SandboxUserError("E_WRONG_STATE", $"Internal shipment {shipment.GetValueOrDefault("number")} is '{shipment.GetValueOrDefault("state")}'; it must be waiting to be assigned.");
        }

        var moves = ShipmentMoves("stock.shipment.internal", id, _ => true).Select(m => Rec("stock.move", m)).ToList();
        if (!force)
        {
            foreach (var group in moves.GroupBy(m => ((int)m.GetValueOrDefault("product")!, (int)m.GetValueOrDefault("from_location")!)))
            {
                var (product, from) = group.Key;
                var available = OnHand(product, from, withChilds: true) - Flow(product, from, true, "assigned");
                if (available < group.Sum(m => (decimal)m.GetValueOrDefault("quantity")!))
                {
                    return false;
                }
            }
        }

        foreach (var move in moves)
        {
            move["state"] = "assigned";
        }

        shipment["state"] = "assigned";
        return true;
    }

    private void InternalDone(int id)
    {
        Transition("stock.shipment.internal", id, ["assigned"], "done");
        Rec("stock.shipment.internal", id)["effective_date"] = Today();
        foreach (var moveId in ShipmentMoves("stock.shipment.internal", id, _ => true))
        {
            Rec("stock.move", moveId)["state"] = "done";
            Rec("stock.move", moveId)["effective_date"] = Today();
        }
    }

    private void InternalCancel(int id)
    {
        Transition("stock.shipment.internal", id, ["draft", "waiting", "assigned"], "cancelled");
        foreach (var moveId in ShipmentMoves("stock.shipment.internal", id, _ => true))
        {
            Rec("stock.move", moveId)["state"] = "cancelled";
        }
    }

    private void InvoicePost(int id)
    {
        var invoice = Rec("account.invoice", id);
        if (invoice.GetValueOrDefault("state") is "posted" or "paid")
        {
            return;
        }

        if (Children("account.invoice.line", "invoice", id).Count == 0)
        {
            throw new SandboxUserError("E_INVOICE_EMPTY", $"Invoice {id} has no lines and cannot be posted.");
        }

        PeriodFor(invoice.GetValueOrDefault("invoice_date") as DateOnly? ?? Today(), requireOpen: true);
        Transition("account.invoice", id, ["draft", "validated"], "posted");
        var total = Table("account.invoice.line").Values.Where(l => Equals(l.GetValueOrDefault("invoice"), id)).Sum(LineAmount);
        invoice["number"] = NextNumber(total < 0 ? "CN" : "INV");
        PostInvoiceMoveLocked(id);
    }

    private void MovePost(int id)
    {
        var move = Rec("account.move", id);
        if (Equals(move.GetValueOrDefault("state"), "posted"))
        {
            return;
        }

        var lines = Children("account.move.line", "move", id).Select(l => Rec("account.move.line", l)).ToList();
        var debit = lines.Sum(l => l.GetValueOrDefault("debit") as decimal? ?? 0m);
        var credit = lines.Sum(l => l.GetValueOrDefault("credit") as decimal? ?? 0m);
        if (lines.Count == 0 || debit != credit)
        {
            throw new SandboxUserError("E_MOVE_UNBALANCED", string.Create(CultureInfo.InvariantCulture, $"Move \"{move.GetValueOrDefault("description")}\" is not balanced (debit {debit}, credit {credit})."));
        }

        PeriodFor((DateOnly)move.GetValueOrDefault("date")!, requireOpen: true);
        Transition("account.move", id, ["draft"], "posted");
        move["number"] = NextNumber("MV");
        move["post_date"] = Today();
    }
}
