using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

// Receivables as Tryton's account_invoice keeps them: a posted customer invoice has a move (receivable line for the
// party on the invoice's account, revenue lines), the sale of a non-return order is invoiced when confirmed (invoice
// method "order"), and account.move.reconciliation joins receivable lines that net to zero — with Tryton's refusals.
public sealed partial class FulfilSandboxState
{
    /// <summary>Lines of one account and one party whose debits equal their credits, joined as settled (tests inspect them).</summary>
    public IReadOnlyList<FulfilSandboxRecord> Reconciliations() => All("account.move.reconciliation");

    /// <summary>Journal entries made through <c>account.move</c> itself: every move but those Fulfil posts for invoices.</summary>
    public IReadOnlyList<FulfilSandboxRecord> JournalEntries() =>
        Where("account.move", m => !(m.GetValueOrDefault("origin") as string ?? "").StartsWith("account.invoice,", StringComparison.Ordinal));

    /// <summary>Debit minus credit of the account's lines in posted moves (optionally of one party).</summary>
    public decimal Balance(string accountCode, int? partyId = null)
    {
        lock (_gate)
        {
            var account = AccountIdLocked(accountCode);
            return Table("account.move.line").Values
                .Where(l => Equals(l.GetValueOrDefault("account"), account) && (partyId is null || Equals(l.GetValueOrDefault("party"), partyId))
                    && l.GetValueOrDefault("move") is int m && Equals(Rec("account.move", m).GetValueOrDefault("state"), "posted"))
                .Sum(l => (l.GetValueOrDefault("debit") as decimal? ?? 0m) - (l.GetValueOrDefault("credit") as decimal? ?? 0m));
        }
    }

    /// <summary>
    /// Tryton's sale processing with invoice method "order": one draft customer invoice for the lines of a confirmed
    /// (non-return) sale, linked through <c>sales</c>, no reference (Tryton sets none). Idempotent.
    /// </summary>
    private void InvoiceSaleLocked(int saleId)
    {
        var sale = Rec("sale.sale", saleId);
        if (Equals(sale.GetValueOrDefault("is_return"), true)
            || Table("account.invoice").Values.Any(i => i.GetValueOrDefault("sales") is List<int> s && s.Contains(saleId) && !Equals(i.GetValueOrDefault("state"), "cancelled")))
        {
            return;
        }

        var invoice = Insert("account.invoice", new()
        {
            ["type"] = "out", ["party"] = sale.GetValueOrDefault("party"), ["invoice_address"] = sale.GetValueOrDefault("invoice_address"), ["invoice_date"] = Today(),
            ["company"] = CompanyId, ["state"] = "draft", ["currency"] = sale.GetValueOrDefault("currency"), ["account"] = AccountIdLocked(FulfilSandboxDemo.ReceivableAccountCode),
            ["sales"] = new List<int> { saleId },
        });
        foreach (var line in Children("sale.line", "sale", saleId).Select(l => Rec("sale.line", l)))
        {
            Insert("account.invoice.line", new()
            {
                ["invoice"] = invoice, ["type"] = "line", ["product"] = line.GetValueOrDefault("product"), ["description"] = line.GetValueOrDefault("description"),
                ["quantity"] = line.GetValueOrDefault("quantity"), ["unit_price"] = line.GetValueOrDefault("unit_price"), ["unit"] = line.GetValueOrDefault("unit"),
            });
        }
    }

    /// <summary>
    /// The move Tryton posts with an invoice (origin = the invoice): the total on the party's receivable (debit for an
    /// invoice, credit for a credit note) against each line's account (the revenue account when the line names none).
    /// </summary>
    private void PostInvoiceMoveLocked(int invoiceId)
    {
        var invoice = Rec("account.invoice", invoiceId);
        if (invoice.GetValueOrDefault("move") is int)
        {
            return;
        }

        var receivable = invoice.GetValueOrDefault("account") as int? ?? AccountIdLocked(FulfilSandboxDemo.ReceivableAccountCode);
        var revenue = AccountIdLocked(FulfilSandboxDemo.RevenueAccountCode);
        var date = invoice.GetValueOrDefault("invoice_date") as DateOnly? ?? Today();
        var move = Insert("account.move", new()
        {
            ["journal"] = FulfilSandboxDemo.RevenueJournalId, ["period"] = PeriodFor(date, requireOpen: true), ["date"] = date, ["description"] = invoice.GetValueOrDefault("description"),
            ["origin"] = "account.invoice," + invoiceId.ToString(CultureInfo.InvariantCulture), ["company"] = CompanyId, ["state"] = "posted",
            ["number"] = NextNumber("MV"), ["post_date"] = Today(),
        });
        var total = 0m;
        foreach (var line in Children("account.invoice.line", "invoice", invoiceId).Select(l => Rec("account.invoice.line", l)))
        {
            var amount = LineAmount(line);
            total += amount;
            if (amount != 0)
            {
                Insert("account.move.line", new()
                {
                    ["move"] = move, ["account"] = line.GetValueOrDefault("account") as int? ?? revenue,
                    ["debit"] = amount < 0 ? -amount : 0m, ["credit"] = amount > 0 ? amount : 0m, ["description"] = line.GetValueOrDefault("description"),
                });
            }
        }

        // The invoice's total as the model computes it (tax included where lines carry taxes): the difference from the
        // lines is its tax, booked to a tax account (the revenue account when the chart has none), so the move balances.
        var invoiced = Value("account.invoice", invoiceId, invoice, "total_amount", Ctx.Empty) as decimal? ?? total;
        if (invoiced != total)
        {
            var tax = invoiced - total;
            var taxAccount = Table("account.account").FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("type"), "tax")).Key is var t and not 0 ? t : revenue;
            Insert("account.move.line", new() { ["move"] = move, ["account"] = taxAccount, ["debit"] = tax < 0 ? -tax : 0m, ["credit"] = tax > 0 ? tax : 0m, ["description"] = "tax" });
        }

        Insert("account.move.line", new()
        {
            ["move"] = move, ["account"] = receivable, ["party"] = invoice.GetValueOrDefault("party"),
            ["debit"] = invoiced > 0 ? invoiced : 0m, ["credit"] = invoiced < 0 ? -invoiced : 0m,
        });
        invoice["account"] = receivable;
        invoice["move"] = move;
    }

    /// <summary>Tryton's <c>lines_to_pay</c>: the lines of the invoice's move on the invoice's (receivable) account.</summary>
    private List<int> LinesToPay(Dictionary<string, object?> invoice) =>
        invoice.GetValueOrDefault("move") is int move
            ? Children("account.move.line", "move", move).Where(l => Equals(Rec("account.move.line", l).GetValueOrDefault("account"), invoice.GetValueOrDefault("account"))).ToList()
            : [];

    private void ValidateReconciliation(Dictionary<string, object?> values)
    {
        foreach (var field in values.Keys.Where(f => f != "lines" && !FulfilSandboxSchema.Stored["account.move.reconciliation"].Contains(f)))
        {
            throw new SandboxBadRequest($"Field '{field}' does not exist on account.move.reconciliation.");
        }

        if (values.GetValueOrDefault("date") is not DateOnly)
        {
            throw new SandboxUserError("E_REQUIRED", "A value is required for field \"Date\" in \"Account Move Reconciliation Lines\".");
        }

        var ids = ReconciledLineIds(values.GetValueOrDefault("lines"));
        // Tryton's Reconciliation.check_lines and Line.reconcile: posted lines, not reconciled yet, one account that
        // allows reconciliation, one party, debits equal to credits.
        var lines = ids.Select(id => Table("account.move.line").TryGetValue(id, out var l) ? l : throw new SandboxUserError("E_MISSING_LINE", $"account.move.line {id} does not exist.")).ToList();
        decimal debit = 0m, credit = 0m;
        foreach (var line in lines)
        {
            if (!Equals(Rec("account.move", (int)line.GetValueOrDefault("move")!).GetValueOrDefault("state"), "posted"))
            {
                throw new SandboxUserError("E_RECONCILIATION_LINE_NOT_VALID", $"Line {line.GetValueOrDefault("id")} is not posted and cannot be reconciled.");
            }

            if (line.GetValueOrDefault("reconciliation") is not null)
            {
                throw new SandboxUserError("E_LINE_ALREADY_RECONCILED", $"Line {line.GetValueOrDefault("id")} is already reconciled.");
            }

            if (!Equals(line.GetValueOrDefault("account"), lines[0].GetValueOrDefault("account")))
            {
                throw new SandboxUserError("E_RECONCILIATION_DIFFERENT_ACCOUNTS", $"Line {line.GetValueOrDefault("id")} is on another account than line {lines[0].GetValueOrDefault("id")}.");
            }

            if (!PartyRequired(Rec("account.account", (int)line.GetValueOrDefault("account")!)))
            {
                throw new SandboxUserError("E_RECONCILIATION_ACCOUNT_NOT_RECONCILE", $"Account {Rec("account.account", (int)line.GetValueOrDefault("account")!).GetValueOrDefault("code")} does not allow reconciliation.");
            }

            if (!Equals(line.GetValueOrDefault("party"), lines[0].GetValueOrDefault("party")))
            {
                throw new SandboxUserError("E_RECONCILIATION_DIFFERENT_PARTIES", $"Line {line.GetValueOrDefault("id")} is for another party than line {lines[0].GetValueOrDefault("id")}.");
            }

            debit += line.GetValueOrDefault("debit") as decimal? ?? 0m;
            credit += line.GetValueOrDefault("credit") as decimal? ?? 0m;
        }

        if (debit != credit)
        {
            throw new SandboxUserError("E_RECONCILIATION_UNBALANCED", string.Create(CultureInfo.InvariantCulture, $"The reconciliation is unbalanced (debit {debit}, credit {credit})."));
        }
    }

    private int CreateReconciliationLocked(Dictionary<string, object?> values)
    {
        var id = Insert("account.move.reconciliation", new()
        {
            ["name"] = values.GetValueOrDefault("name") as string ?? NextNumber("REC"), ["company"] = CompanyId, ["date"] = values.GetValueOrDefault("date"),
        });
        foreach (var lineId in ReconciledLineIds(values.GetValueOrDefault("lines")))
        {
            var line = Rec("account.move.line", lineId);
            line["reconciliation"] = id;
            IndexChildren("account.move.line", lineId, line, "reconciliation");
        }

        // Tryton's account_invoice: an invoice whose receivable lines are all reconciled is paid.
        foreach (var (invoiceId, invoice) in Table("account.invoice").Where(kv => Equals(kv.Value.GetValueOrDefault("state"), "posted")).ToList())
        {
            var toPay = LinesToPay(invoice);
            if (toPay.Count > 0 && toPay.All(l => Rec("account.move.line", l).GetValueOrDefault("reconciliation") is not null))
            {
                Transition("account.invoice", invoiceId, ["posted"], "paid");
            }
        }

        return id;
    }

    /// <summary>The ids of <c>lines: [["add", [ids]]]</c>, the only way Tryton's own reconcile fills a reconciliation.</summary>
    private static List<int> ReconciledLineIds(object? commands)
    {
        var ids = commands is List<object?> list
            ? list.SelectMany(c => c is List<object?> { Count: 2 } cmd && Equals(cmd[0], "add") && cmd[1] is List<object?> add
                ? add.Select(v => Convert.ToInt32(v, CultureInfo.InvariantCulture))
                : throw new SandboxBadRequest("account.move.reconciliation.lines takes [[\"add\", [line ids]]].")).Distinct().ToList()
            : throw new SandboxBadRequest("account.move.reconciliation needs lines: [[\"add\", [line ids]]].");
        return ids.Count >= 2 ? ids : throw new SandboxUserError("E_RECONCILIATION_LINES", "A reconciliation needs at least two lines.");
    }

    private int AccountIdLocked(string code) =>
        Table("account.account").FirstOrDefault(kv => Equals(kv.Value.GetValueOrDefault("code"), code)).Key is var id and not 0
            ? id
            : throw new InvalidOperationException($"The sandbox has no account {code}.");
}
