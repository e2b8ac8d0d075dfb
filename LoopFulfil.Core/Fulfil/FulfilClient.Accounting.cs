using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Accounting: credit notes, journal entries (balanced before they are sent) and accounts.
public sealed partial class FulfilClient
{
    private static readonly string[] MoveLineFields = ["id", "move", "account", "debit", "credit", "party", "description"];

    public async Task<FulfilCreditNote?> FindCreditNoteAsync(string reference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var rows = await _http.SearchReadAsync<JsonElement>(Invoice, [new object[] { _options.CreditNoteReferenceField, "=", reference }, new object[] { "type", "=", "out" }, new object[] { "state", "!=", "cancelled" }], 0, 1, CreditNoteFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : ToCreditNote(rows[0]);
    }

    public async Task<FulfilCreditNote> CreateCreditNoteAsync(FulfilCreditNoteRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Reference);
        var total = request.Lines.Sum(l => l.Quantity * l.UnitPrice);
        if (request.Lines.Count == 0 || total >= 0)
        {
            throw new FulfilRequestException($"Credit note {request.Reference} must have lines and a negative total (got {total}).");
        }

        var lines = request.Lines.Select(l =>
        {
            var line = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["type"] = "line",
                ["description"] = l.Description,
                ["quantity"] = new TrytonFloat(l.Quantity),
                ["unit_price"] = l.UnitPrice,
            };
            if (l.ProductId is { } product)
            {
                line["product"] = product;
            }

            if (l.AccountId is { } account)
            {
                line["account"] = account;
            }

            if (l.TaxIds is { Count: > 0 } taxes)
            {
                line["taxes"] = new object[] { new object[] { "add", taxes.ToArray() } };
            }

            return line;
        }).ToList();
        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["type"] = "out",
            ["company"] = _options.CompanyId,
            ["party"] = request.PartyId,
            ["invoice_date"] = request.InvoiceDate,
            ["description"] = request.Description,
            ["lines"] = new object[] { new object[] { "create", lines } },
        };
        record[_options.CreditNoteReferenceField] = request.Reference;
        if (request.InvoiceAddressId is { } address)
        {
            record["invoice_address"] = address;
        }

        if (request.ReceivableAccountId is { } receivable)
        {
            record["account"] = receivable;
        }

        var ids = await _http.CreateAsync(Invoice, [record], cancellationToken).ConfigureAwait(false);
        return await GetCreditNoteAsync(ids[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilCreditNote> PostCreditNoteAsync(int creditNoteId, CancellationToken cancellationToken = default)
    {
        var note = await GetCreditNoteAsync(creditNoteId, cancellationToken).ConfigureAwait(false);
        switch (note.State)
        {
            case "posted":
            case "paid":
                return note;
            case "draft":
            case "validated":
                await _http.CallAsync(Invoice, "post", [new[] { creditNoteId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                return await GetCreditNoteAsync(creditNoteId, cancellationToken).ConfigureAwait(false);
            default:
                throw new FulfilRequestException($"Credit note {note.Reference ?? FulfilRows.Text(creditNoteId)} is {note.State}; it cannot be posted.");
        }
    }

    public async Task<FulfilJournalEntry?> FindJournalEntryAsync(string reference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var rows = await _http.SearchReadAsync<JsonElement>(Move, [new object[] { _options.JournalReferenceField, "=", reference }], 0, 1, JournalFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : await ToJournalEntryAsync(rows[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilJournalEntry> CreateJournalEntryAsync(FulfilJournalEntryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Reference);
        EnsureBalanced(request);
        // Tryton refuses a party on a line whose account does not take one (and requires it where the account does):
        // the customer goes only on lines of party-required accounts.
        var accountIds = request.Lines.Select(l => l.AccountId).Distinct().ToArray();
        var takesParty = (await _http.SearchReadAllAsync<JsonElement>("account.account", [new object[] { "id", "in", accountIds }], ["id", "party_required"], cancellationToken: cancellationToken).ConfigureAwait(false))
            .ToDictionary(r => r.Id(), r => r.Bool("party_required", whenMissing: false));
        var lines = request.Lines.Select(l =>
        {
            var line = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["account"] = l.AccountId,
                ["debit"] = l.Debit,
                ["credit"] = l.Credit,
                ["description"] = l.Description,
            };
            if (l.PartyId is { } party && takesParty.GetValueOrDefault(l.AccountId))
            {
                line["party"] = party;
            }

            return line;
        }).ToList();
        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["company"] = _options.CompanyId,
            ["journal"] = _options.JournalId,
            ["date"] = request.Date,
            ["lines"] = new object[] { new object[] { "create", lines } },
        };
        record[_options.JournalReferenceField] = request.Reference;
        var ids = await _http.CreateAsync(Move, [record], cancellationToken).ConfigureAwait(false);
        return await GetJournalEntryAsync(ids[0], cancellationToken).ConfigureAwait(false);
    }

    public async Task<FulfilJournalEntry> PostJournalEntryAsync(int journalEntryId, CancellationToken cancellationToken = default)
    {
        var entry = await GetJournalEntryAsync(journalEntryId, cancellationToken).ConfigureAwait(false);
        if (entry.State == "posted")
        {
            return entry;
        }

        await _http.CallAsync(Move, "post", [new[] { journalEntryId }], cancellationToken: cancellationToken).ConfigureAwait(false);
        return await GetJournalEntryAsync(journalEntryId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FulfilAccount>> GetAccountsByCodesAsync(IReadOnlyCollection<string> codes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Count == 0)
        {
            return [];
        }

        var rows = await _http.SearchReadAllAsync<JsonElement>("account.account", [new object[] { "code", "in", codes.Distinct().ToArray() }], ["id", "code", "name", "type"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new FulfilAccount(r.Id(), r.Str("code") ?? "", r.Str("name") ?? "", r.Str("type"))).ToList();
    }

    internal static void EnsureBalanced(FulfilJournalEntryRequest request)
    {
        if (request.Lines.Count < 2)
        {
            throw new FulfilRequestException($"Journal entry {request.Reference} needs at least two lines.");
        }

        if (request.Lines.Any(l => l.Debit < 0 || l.Credit < 0 || (l.Debit != 0) == (l.Credit != 0)))
        {
            throw new FulfilRequestException($"Journal entry {request.Reference}: each line needs exactly one of a positive debit or a positive credit.");
        }

        var debit = request.Lines.Sum(l => l.Debit);
        var credit = request.Lines.Sum(l => l.Credit);
        if (debit != credit)
        {
            throw new FulfilRequestException($"Journal entry {request.Reference} is unbalanced: debit {debit} ≠ credit {credit}.");
        }
    }

    public async Task<FulfilCreditNote> GetCreditNoteAsync(int id, CancellationToken cancellationToken = default)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(Invoice, [new object[] { "id", "=", id }], 0, 1, CreditNoteFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? ToCreditNote(rows[0]) : throw new FulfilNotFoundException($"Fulfil has no {Invoice} {id}.");
    }

    private async Task<FulfilJournalEntry> GetJournalEntryAsync(int id, CancellationToken cancellationToken)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(Move, [new object[] { "id", "=", id }], 0, 1, JournalFields(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? await ToJournalEntryAsync(rows[0], cancellationToken).ConfigureAwait(false) : throw new FulfilNotFoundException($"Fulfil has no {Move} {id}.");
    }

    private async Task<FulfilJournalEntry> ToJournalEntryAsync(JsonElement row, CancellationToken cancellationToken)
    {
        var lines = await _http.SearchReadAllAsync<JsonElement>(MoveLine, [new object[] { "move", "=", row.Id() }], MoveLineFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new FulfilJournalEntry(
            row.Id(),
            row.Str(_options.JournalReferenceField),
            row.Str("number"),
            row.Str("state") ?? "",
            row.Date("date"),
            lines.Select(l => new FulfilJournalLine(l.IntOrNull("account") ?? 0, l.Dec("debit"), l.Dec("credit"), l.IntOrNull("party"), l.Str("description"))).ToList());
    }

    private string[] CreditNoteFields() => ["id", _options.CreditNoteReferenceField, "number", "state", "party", "invoice_date", "total_amount", "tax_amount", "account"];

    private string[] JournalFields() => ["id", _options.JournalReferenceField, "number", "state", "date"];

    private FulfilCreditNote ToCreditNote(JsonElement r) =>
        new(r.Id(), r.Str(_options.CreditNoteReferenceField), r.Str("number"), r.Str("state") ?? "", r.IntOrNull("party"), r.Date("invoice_date"), r.Dec("total_amount"), r.Dec("tax_amount"), r.IntOrNull("account"));
}
