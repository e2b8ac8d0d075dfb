using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Fulfil;

/// <summary>A customer invoice or credit note (<c>account.invoice</c> type out) with its receivable lines.</summary>
/// <param name="AccountId">The invoice's receivable account (Tryton's <c>account</c>).</param>
/// <param name="ReceivableLineIds">
/// Its move lines on that account (<c>lines_to_pay</c>, once posted) and the payment lines attached to it
/// (<c>payment_lines</c>): together, everything that settles it on the customer's receivable.
/// </param>
public sealed record FulfilInvoiceReceivable(int Id, string? Number, string State, int? PartyId, int? AccountId, decimal TotalAmount, IReadOnlyList<int> ReceivableLineIds);

/// <summary>An <c>account.move.line</c> with its reconciliation (null while open).</summary>
public sealed record FulfilMoveLine(int Id, int MoveId, int AccountId, int? PartyId, decimal Debit, decimal Credit, int? ReconciliationId);

/// <summary>An <c>account.move.reconciliation</c>: lines of one account and one party whose amounts net to zero.</summary>
/// <param name="Name">Our deterministic reference (Tryton: the reconciliation's <c>name</c>, else a sequence number).</param>
public sealed record FulfilReconciliation(int Id, string Name, IReadOnlyList<int> LineIds);

/// <summary>
/// The accounting reads and writes that settle a return's documents on the customer receivable: the invoices of a
/// sale, a customer invoice's receivable lines, the move lines of the return's journal entries, and reconciliation.
/// Shares the <c>Fulfil</c> named <c>HttpClient</c> (one resilience pipeline and circuit) with <see cref="IFulfilClient"/>.
/// </summary>
/// <remarks>
/// Confirmed on Tryton 6.0 (the engine under Fulfil): <c>account.invoice.lines_to_pay</c> / <c>payment_lines</c>,
/// <c>account.move.line.reconciliation</c>, and creating <c>account.move.reconciliation</c> with <c>lines: [["add", ids]]</c>
/// (what Tryton's own <c>reconcile</c> does; Tryton refuses lines that do not net to zero, are on different accounts or
/// parties, are not posted or are already reconciled). <b>Inferred for Fulfil</b>: that its REST v2 exposes
/// <c>account.move.reconciliation</c> create and search like any other model (fulfil-api.md does not list it).
/// </remarks>
public interface IFulfilReceivables
{
    /// <summary>Customer invoices (type out, not cancelled) generated from the sale, with their receivable lines.</summary>
    Task<IReadOnlyList<FulfilInvoiceReceivable>> GetSaleInvoicesAsync(int saleId, CancellationToken cancellationToken = default);

    /// <summary>One customer invoice or credit note with its receivable lines.</summary>
    Task<FulfilInvoiceReceivable> GetInvoiceAsync(int invoiceId, CancellationToken cancellationToken = default);

    /// <summary>Posts a draft or validated customer invoice (no-op when posted or paid); refuses a cancelled one.</summary>
    Task<FulfilInvoiceReceivable> PostInvoiceAsync(int invoiceId, CancellationToken cancellationToken = default);

    /// <summary>The lines of posted journal entries whose reference starts with <paramref name="referencePrefix"/>.</summary>
    Task<IReadOnlyList<FulfilMoveLine>> GetJournalLinesAsync(string referencePrefix, CancellationToken cancellationToken = default);

    /// <summary>Move lines by id.</summary>
    Task<IReadOnlyList<FulfilMoveLine>> GetMoveLinesAsync(IReadOnlyCollection<int> lineIds, CancellationToken cancellationToken = default);

    /// <summary>The reconciliation named <paramref name="name"/>, or null.</summary>
    Task<FulfilReconciliation?> FindReconciliationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reconciles the lines under <paramref name="name"/> (no lookup: callers find first). Fulfil refuses (permanent)
    /// lines that do not net to zero, span accounts or parties, are not posted, or are already reconciled.
    /// </summary>
    Task<FulfilReconciliation> ReconcileAsync(string name, IReadOnlyCollection<int> lineIds, DateOnly reconciledOn, CancellationToken cancellationToken = default);
}

/// <inheritdoc cref="IFulfilReceivables"/>
public sealed class FulfilReceivablesClient : IFulfilReceivables
{
    private const string Invoice = "account.invoice";
    private const string Move = "account.move";
    private const string MoveLine = "account.move.line";
    private const string Reconciliation = "account.move.reconciliation";
    private static readonly string[] InvoiceFields = ["id", "number", "state", "party", "account", "total_amount", "lines_to_pay", "payment_lines"];
    private static readonly string[] MoveLineFields = ["id", "move", "account", "party", "debit", "credit", "reconciliation"];

    private readonly FulfilHttp _http;
    private readonly FulfilOptions _options;

    public FulfilReceivablesClient(HttpClient httpClient, IOptions<FulfilOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _http = new FulfilHttp(httpClient, _options, timeProvider);
    }

    public async Task<IReadOnlyList<FulfilInvoiceReceivable>> GetSaleInvoicesAsync(int saleId, CancellationToken cancellationToken = default)
    {
        var rows = await _http.SearchReadAllAsync<JsonElement>(
            Invoice,
            [new object[] { "sales", "=", saleId }, new object[] { "type", "=", "out" }, new object[] { "state", "!=", "cancelled" }],
            InvoiceFields,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(ToInvoice)];
    }

    public async Task<FulfilInvoiceReceivable> GetInvoiceAsync(int invoiceId, CancellationToken cancellationToken = default)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(Invoice, [new object[] { "id", "=", invoiceId }], 0, 1, InvoiceFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? ToInvoice(rows[0]) : throw new FulfilNotFoundException($"Fulfil has no {Invoice} {Text(invoiceId)}.");
    }

    public async Task<FulfilInvoiceReceivable> PostInvoiceAsync(int invoiceId, CancellationToken cancellationToken = default)
    {
        var invoice = await GetInvoiceAsync(invoiceId, cancellationToken).ConfigureAwait(false);
        switch (invoice.State)
        {
            case "posted":
            case "paid":
                return invoice;
            case "draft":
            case "validated":
                await _http.CallAsync(Invoice, "post", [new[] { invoiceId }], cancellationToken: cancellationToken).ConfigureAwait(false);
                return await GetInvoiceAsync(invoiceId, cancellationToken).ConfigureAwait(false);
            default:
                throw new FulfilRequestException($"Invoice {invoice.Number ?? Text(invoiceId)} is {invoice.State}; it cannot be posted.");
        }
    }

    public async Task<IReadOnlyList<FulfilMoveLine>> GetJournalLinesAsync(string referencePrefix, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(referencePrefix);
        // Two reads, not a dotted domain on the lines: the reference field is a setting and may not be searchable through a relation.
        var moves = await _http.SearchReadAllAsync<JsonElement>(
            Move,
            [new object[] { _options.JournalReferenceField, "like", referencePrefix + "%" }, new object[] { "state", "=", "posted" }],
            ["id"],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (moves.Count == 0)
        {
            return [];
        }

        var lines = await _http.SearchReadAllAsync<JsonElement>(MoveLine, [new object[] { "move", "in", moves.Select(m => m.Id()).ToArray() }], MoveLineFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. lines.Select(ToMoveLine)];
    }

    public async Task<IReadOnlyList<FulfilMoveLine>> GetMoveLinesAsync(IReadOnlyCollection<int> lineIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lineIds);
        if (lineIds.Count == 0)
        {
            return [];
        }

        var lines = await _http.SearchReadAllAsync<JsonElement>(MoveLine, [new object[] { "id", "in", lineIds.Distinct().ToArray() }], MoveLineFields, cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. lines.Select(ToMoveLine)];
    }

    public async Task<FulfilReconciliation?> FindReconciliationAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var rows = await _http.SearchReadAsync<JsonElement>(Reconciliation, [new object[] { "name", "=", name }], 0, 1, ["id", "name", "lines"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : new FulfilReconciliation(rows[0].Id(), rows[0].Str("name") ?? name, rows[0].Ids("lines"));
    }

    public async Task<FulfilReconciliation> ReconcileAsync(string name, IReadOnlyCollection<int> lineIds, DateOnly reconciledOn, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(lineIds);
        if (lineIds.Count < 2)
        {
            throw new FulfilRequestException($"Reconciliation {name} needs at least two lines.");
        }

        var ids = await _http.CreateAsync(Reconciliation,
        [
            new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["name"] = name,
                ["company"] = _options.CompanyId,
                ["date"] = reconciledOn,
                ["lines"] = new object[] { new object[] { "add", lineIds.Distinct().Order().ToArray() } },
            },
        ], cancellationToken).ConfigureAwait(false);
        return await FindReconciliationAsync(name, cancellationToken).ConfigureAwait(false)
            ?? new FulfilReconciliation(ids[0], name, [.. lineIds]);
    }

    private static FulfilInvoiceReceivable ToInvoice(JsonElement r) =>
        new(r.Id(), r.Str("number"), r.Str("state") ?? "", r.IntOrNull("party"), r.IntOrNull("account"), r.Dec("total_amount"), [.. r.Ids("lines_to_pay").Concat(r.Ids("payment_lines")).Distinct()]);

    private static FulfilMoveLine ToMoveLine(JsonElement l) =>
        new(l.Id(), l.IntOrNull("move") ?? 0, l.IntOrNull("account") ?? 0, l.IntOrNull("party"), l.Dec("debit"), l.Dec("credit"), l.IntOrNull("reconciliation"));

    private static string Text(int id) => id.ToString(CultureInfo.InvariantCulture);
}
