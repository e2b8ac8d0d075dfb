using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// Builds the <see cref="ShadowReport"/>: for every return with a write planned in shadow mode, the documents the
/// accounting model plans from the return as the pipeline last saw it (the ledger's snapshot, else Loop's API) against
/// what Fulfil holds on the same order from the existing process. Reads only.
/// </summary>
public sealed class ShadowReportBuilder(
    ShadowPlanStore plan,
    ReturnLedger ledger,
    IFulfilClient fulfil,
    IFulfilOutcomesClient outcomes,
    ILoopClient loop,
    IOptions<RefundsOptions> refundsOptions,
    TimeProvider time,
    LoopReferences? references = null)
{
    /// <summary>The report's document name for an exchange order.</summary>
    public const string ExchangeOrderDocument = "exchange order";

    private readonly RefundsOptions _refunds = refundsOptions.Value;
    private readonly LoopReferences _references = references ?? LoopReferences.Default;

    public async Task<ShadowReport> BuildAsync(CancellationToken cancellationToken)
    {
        var writes = new List<PlannedWrite>();
        await foreach (var w in plan.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            writes.Add(w);
        }

        var rows = new List<ShadowReportRow>();
        foreach (var returnId in writes.Select(w => w.ReturnId).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            IReadOnlyList<PlannedWrite> own = [.. writes.Where(w => w.ReturnId == returnId).OrderBy(w => w.At)];
            rows.AddRange(ShadowPlanCoverage.Annotate(await ReturnRowsAsync(returnId, cancellationToken).ConfigureAwait(false), own));
        }

        return new ShadowReport(time.GetUtcNow(), rows, writes);
    }

    private async Task<IReadOnlyList<ShadowReportRow>> ReturnRowsAsync(string returnId, CancellationToken ct)
    {
        var r = await ReturnAsync(returnId, ct).ConfigureAwait(false);
        if (r is null)
        {
            return [new ShadowReportRow(returnId, null, "return", null, null, null, null, ShadowVerdict.Planned, "Loop has no such return and no snapshot is stored")];
        }

        var sale = r.OrderName is null && r.ProviderOrderId is null ? null
            : await fulfil.FindOriginalSaleAsync(r.OrderName ?? "", r.ProviderOrderId, ct).ConfigureAwait(false);
        var others = sale is null ? []
            : ExistingProcessDocuments.OtherProcess(await fulfil.GetReturnSalesAsync([sale.Id], ct).ConfigureAwait(false), returnId, _references);
        var rows = new List<ShadowReportRow>();
        ShadowReportRow Row(string document, string? reference, decimal? planned, string? existing, decimal? existingAmount, ShadowVerdict verdict, string note) =>
            new(returnId, r.OrderName, document, reference, planned, existing, existingAmount, verdict, note);

        // The return sale: units per SKU at price less discount (docs/accounting.md, rule "one credit document").
        var net = r.LineItems.Sum(l => l.Price - l.Discount);
        var units = Describe(ExistingProcessDocuments.Units(r.LineItems));
        var match = ExistingProcessDocuments.Adoptable(r.LineItems, others, returnId, _references);
        if (sale is null)
        {
            rows.Add(Row("return sale", units, net, null, null, ShadowVerdict.MissingInFulfil, $"order {r.OrderName} not found in Fulfil: live mode raises OrderNotFound"));
        }
        else if (match is not null)
        {
            rows.Add(Row("return sale", units, net, Name(match.Sale), match.Sale.TotalAmount, ShadowVerdict.Matched, "made by the existing process with the same SKUs and quantities: live mode adopts it"));
        }
        else
        {
            var near = others.Count > 0 ? others[0] : null;
            rows.Add(near is null
                ? Row("return sale", units, net, null, null, ShadowVerdict.MissingInFulfil, "live mode makes it")
                : Row("return sale", units, net, Name(near.Sale), near.Sale.TotalAmount, ShadowVerdict.Differs, $"the existing process's return sale has other units ({Describe(ExistingProcessDocuments.Units(near.Sale))}): live mode makes its own, check for a double return"));
        }

        var shown = match ?? (others.Count > 0 ? others[0] : null);
        foreach (var other in others.Where(o => o.Sale.Id != shown?.Sale.Id))
        {
            rows.Add(Row("return sale", null, null, Name(other.Sale), other.Sale.TotalAmount, ShadowVerdict.OnlyInFulfil, "another return sale on the order that LoopFulfil did not plan"));
        }

        if (!string.Equals(r.State, ReturnStates.Closed, StringComparison.OrdinalIgnoreCase))
        {
            rows.Add(Row("money", null, null, null, null, ShadowVerdict.Planned, $"return is {r.State}: credit note and payments are planned once Loop processes it"));
            return rows;
        }

        // Exchanges: live mode hands each order to loop-exchanges, which makes it; shadow mode only plans the hand-off.
        foreach ((var key, var items) in ExchangeGroups.Of(r))
        {
            rows.Add(Row(ExchangeOrderDocument, ExchangeStage.MessageId(returnId, key), items.Sum(e => e.Price - e.Discount), null, null, ShadowVerdict.Planned, "live mode hands it to loop-exchanges, which makes the exchange sales order"));
        }

        var money = RefundPlan.For(r, _refunds.AmountTolerance, _refunds.CompanyCurrency, _refunds.StoreCreditDocument);
        if (money.Mismatch is { } mismatch)
        {
            rows.Add(Row("money", null, null, null, null, ShadowVerdict.Planned, "nothing planned: " + mismatch));
            return rows;
        }

        IReadOnlyList<FulfilSaleInvoice> notes = match is null ? [] : [.. (await outcomes.GetInvoicesOfSaleAsync(match.Sale.Id, ct).ConfigureAwait(false)).Where(i => i.State is not "cancelled" and not "cancel")];
        foreach (var p in money.Postings)
        {
            if (p.Kind != LoopReferences.CreditNote)
            {
                rows.Add(Row(p.Kind, p.Reference, p.Amount, null, null, ShadowVerdict.Planned, "the existing process's payments and store credit are not read: compare them in Fulfil before going live"));
                continue;
            }

            var note = notes.Count > 0 ? notes[0] : null;
            rows.Add(note is null
                ? Row("credit note", p.Reference, p.Amount, null, null, ShadowVerdict.MissingInFulfil, "live mode posts it")
                : Math.Abs(Math.Abs(note.TotalAmount) - p.Amount) <= _refunds.AmountTolerance
                    ? Row("credit note", p.Reference, p.Amount, note.Number ?? note.Reference ?? string.Create(CultureInfo.InvariantCulture, $"invoice {note.Id}"), note.TotalAmount, ShadowVerdict.Matched, "the existing process's credit note has Loop's total: live mode adopts it")
                        with { Write = note.State is "posted" or "paid" ? ShadowPlanCoverage.NoneNeeded : null }
                    : Row("credit note", p.Reference, p.Amount, note.Number ?? note.Reference ?? string.Create(CultureInfo.InvariantCulture, $"invoice {note.Id}"), note.TotalAmount, ShadowVerdict.Differs, "totals differ: live mode raises an AmountMismatch for finance and posts nothing for it"));
        }

        return rows;
    }

    private async Task<LoopReturn?> ReturnAsync(string returnId, CancellationToken ct)
    {
        var stored = await ledger.GetSnapshotAsync(returnId, ct).ConfigureAwait(false);
        if (stored is { Body.Length: > 0 })
        {
            return LoopJson.Deserialize<LoopReturn>(stored.Body);
        }

        try
        {
            return await loop.GetReturnAsync(returnId, ct).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException)
        {
            return null;
        }
    }

    private static string Describe(IReadOnlyDictionary<string, decimal> units) =>
        string.Join(", ", units.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value:0.##} × {kv.Key}")));

    private static string Name(FulfilSale sale) => sale.Reference ?? sale.Number ?? string.Create(CultureInfo.InvariantCulture, $"sale {sale.Id}");
}
