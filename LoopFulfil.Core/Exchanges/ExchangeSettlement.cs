using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Exchanges;

/// <summary>Where the settlement of a return's exchange stands after one attempt.</summary>
public enum SettlementState
{
    /// <summary>The return has no exchange to settle.</summary>
    NotAnExchange,

    /// <summary>A document is still missing (exchange order or invoice, credit note, refund payment); a later pass settles.</summary>
    Waiting,

    /// <summary>The return's receivable lines are reconciled under <see cref="ExchangeSettlement.Name"/> (now or before).</summary>
    Settled,
}

/// <param name="Reason">What the settlement waits for (Waiting), for logs and tests.</param>
public sealed record SettlementResult(SettlementState State, string? Reason = null);

/// <summary>
/// Settles an exchange on the customer receivable (docs/accounting.md rows 6–8): the return's credit note
/// (<c>LOOP-{id}-CN</c>, covering the returned units) pays for the exchange invoice(s) — the invoices Fulfil makes for the
/// exchange sales orders, posted here if still draft. Upsell Loop collected (X &gt; V) is a payment on the exchange
/// invoice (<c>LOOP-{id}-UPSELL</c>: Dr returns clearing U, Cr receivable U); a difference Loop refunded (X &lt; V) is the
/// refund payment the refunds stage books (<c>LOOP-{id}-RF</c>). Every posted journal <c>LOOP-{id}-…</c> with a
/// receivable line of the customer joins the settlement (refund payment, store credit). Once every document is there and the open receivable lines of the return net to zero, they are reconciled
/// as <c>LOOP-{id}-SETTLE</c> — once: the ledger step and a lookup by that name come first, whichever document is posted
/// last triggers it. A residue that no missing document explains is an AmountMismatch for finance.
/// </summary>
public sealed partial class ExchangeSettlement
{
    private readonly IFulfilClient fulfil;
    private readonly IFulfilReceivables receivables;
    private readonly IOptionsMonitor<FulfilOptions> fulfilOptions;
    private readonly TimeProvider time;
    private readonly ILogger<ExchangeSettlement> logger;
    private readonly LoopReferences references;

    public ExchangeSettlement(IFulfilClient fulfil, IFulfilReceivables receivables, IOptionsMonitor<FulfilOptions> fulfilOptions, LoopReferences references, TimeProvider time, ILogger<ExchangeSettlement> logger)
    {
        this.references = references;
        this.fulfil = fulfil;
        this.receivables = receivables;
        this.fulfilOptions = fulfilOptions;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Name of the reconciliation that settles the return: <c>LOOP-{id}-SETTLE</c>.</summary>
    public string Name(string returnId) => references.Of(returnId, LoopReferences.Settlement);

    /// <summary>Reference of the upsell payment journal: <c>LOOP-{id}-UPSELL</c>.</summary>
    public string UpsellReference(string returnId) => references.Of(returnId, LoopReferences.Upsell);

    /// <summary>Reference of the refund payment (Dr receivable R, Cr returns clearing R) the refunds stage books: <c>LOOP-{id}-RF</c>.</summary>
    public string RefundPaymentReference(string returnId) => references.Of(returnId, LoopReferences.RefundPayment);

    /// <summary>Reference of the credit note this settlement expects (the refunds stage makes it).</summary>
    public string CreditNoteReference(string returnId) => references.Of(returnId, LoopReferences.CreditNote);

    /// <summary>One attempt; safe to repeat and to run concurrently with the refunds stage and the exchange handler.</summary>
    /// <exception cref="ReturnStageException">AmountMismatch: the documents are all there but the receivable does not net to zero.</exception>
    public async Task<SettlementResult> SettleAsync(string returnId, LoopReturn r, ReturnLedger ledger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(ledger);
        IReadOnlyDictionary<string, IReadOnlyList<LoopExchange>> groups = ExchangeGroups.Of(r);
        if (groups.Count == 0)
        {
            return new SettlementResult(SettlementState.NotAnExchange);
        }

        if (await ledger.GetStepAsync(returnId, OutcomeSteps.ExchangeSettlement, cancellationToken).ConfigureAwait(false) is { Status: StepStatus.Done })
        {
            return new SettlementResult(SettlementState.Settled);
        }

        var invoices = new List<FulfilInvoiceReceivable>();
        foreach (string key in groups.Keys)
        {
            StepRecord? order = await ledger.GetStepAsync(returnId, OutcomeSteps.ExchangeOrder(key), cancellationToken).ConfigureAwait(false);
            if (order is not { Status: StepStatus.Done } || !int.TryParse(order.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out int saleId))
            {
                return Wait(returnId, $"exchange order {key} is not created yet");
            }

            IReadOnlyList<FulfilInvoiceReceivable> ofSale = await receivables.GetSaleInvoicesAsync(saleId, cancellationToken).ConfigureAwait(false);
            if (ofSale.Count == 0)
            {
                // Fulfil invoices the sale on its own schedule (invoice method order: at processing; shipment: once shipped).
                return Wait(returnId, $"Fulfil has not invoiced exchange order {key} yet");
            }

            foreach (FulfilInvoiceReceivable invoice in ofSale)
            {
                // The exchange sale is ours; its invoice is posted so the credit can settle it.
                invoices.Add(await receivables.PostInvoiceAsync(invoice.Id, cancellationToken).ConfigureAwait(false));
            }
        }

        FulfilCreditNote? note = await fulfil.FindCreditNoteAsync(CreditNoteReference(returnId), cancellationToken).ConfigureAwait(false);
        if (note is null || note.State is not ("posted" or "paid"))
        {
            return Wait(returnId, $"credit note {CreditNoteReference(returnId)} is not posted yet");
        }

        FulfilInvoiceReceivable credit = await receivables.GetInvoiceAsync(note.Id, cancellationToken).ConfigureAwait(false);
        FulfilInvoiceReceivable first = invoices[0];
        if (first.PartyId is not int party || first.AccountId is not int account)
        {
            throw Mismatch(returnId, $"exchange invoice {first.Number ?? Text(first.Id)} has no customer or receivable account.");
        }

        if (invoices.Append(credit).FirstOrDefault(i => i.PartyId != party || i.AccountId != account) is { } other)
        {
            throw Mismatch(returnId, $"{other.Number ?? Text(other.Id)} is on another customer or receivable account than exchange invoice {first.Number ?? Text(first.Id)}; they cannot settle each other.");
        }

        if (r.Upsell > 0)
        {
            await EnsureUpsellPaymentAsync(returnId, r, party, account, ledger, cancellationToken).ConfigureAwait(false);
        }

        string name = Name(returnId);
        int[] lines = [];
        if (await receivables.FindReconciliationAsync(name, cancellationToken).ConfigureAwait(false) is null)
        {
            IReadOnlyList<FulfilMoveLine> ofInvoices = await receivables.GetMoveLinesAsync([.. invoices.Append(credit).SelectMany(d => d.ReceivableLineIds)], cancellationToken).ConfigureAwait(false);
            IReadOnlyList<FulfilMoveLine> ofJournals = await receivables.GetJournalLinesAsync(references.DocumentsOf(returnId), cancellationToken).ConfigureAwait(false);
            FulfilMoveLine[] open = [.. ofInvoices.Concat(ofJournals)
                .Where(l => l.AccountId == account && l.PartyId == party && l.ReconciliationId is null)
                .DistinctBy(l => l.Id)
                .OrderBy(l => l.Id)];
            decimal residue = open.Sum(l => l.Debit - l.Credit);
            if (residue != 0)
            {
                // The refund of the difference (row 8) is the refunds stage's payment; until it is posted the customer is owed R.
                if (r.Refund > 0 && await fulfil.FindJournalEntryAsync(RefundPaymentReference(returnId), cancellationToken).ConfigureAwait(false) is not { State: "posted" })
                {
                    return Wait(returnId, $"refund payment {RefundPaymentReference(returnId)} of {Text(r.Refund)} is not posted yet");
                }

                throw Mismatch(returnId, $"its {open.Length} open receivable lines leave {Text(residue)} after the credit note, exchange invoice(s), upsell and refund payments (Loop: exchange {Text(r.ExchangeTotal)}, upsell {Text(r.Upsell)}, refund {Text(r.Refund)}). Nothing was reconciled.");
            }

            if (open.Length < 2)
            {
                throw Mismatch(returnId, $"no open receivable lines are left to reconcile and no reconciliation {name} exists (settled by hand?).");
            }

            lines = [.. open.Select(l => l.Id)];
        }

        StepResult step = await ledger.EnsureStepAsync(
            returnId,
            OutcomeSteps.ExchangeSettlement,
            async ct => (await receivables.FindReconciliationAsync(name, ct).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async ct => (await receivables.ReconcileAsync(name, lines, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), ct).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            cancellationToken).ConfigureAwait(false);
        LogSettled(logger, returnId, name, step.Created);
        return new SettlementResult(SettlementState.Settled);
    }

    /// <summary>The upsell Loop collected, as a payment on the exchange invoice: Dr returns clearing U, Cr receivable U (the customer).</summary>
    private async Task EnsureUpsellPaymentAsync(string returnId, LoopReturn r, int party, int receivable, ReturnLedger ledger, CancellationToken ct)
    {
        string reference = UpsellReference(returnId);
        string code = fulfilOptions.CurrentValue.ReturnsClearingAccountCode;
        if (string.IsNullOrWhiteSpace(code))
        {
            throw Mismatch(returnId, "Fulfil:ReturnsClearingAccountCode is not set; the upsell cannot be booked.");
        }

        int clearing = (await fulfil.GetAccountsByCodesAsync([code], ct).ConfigureAwait(false)).FirstOrDefault(a => string.Equals(a.Code, code, StringComparison.Ordinal))?.Id
            ?? throw Mismatch(returnId, $"Fulfil has no account with code '{code}' (Fulfil:ReturnsClearingAccountCode).");
        string description = $"Loop return {returnId} upsell paid {Text(r.Upsell)} {r.Currency}";
        var request = new FulfilJournalEntryRequest(reference, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
        [
            new FulfilJournalLine(clearing, r.Upsell, 0m, null, description),
            new FulfilJournalLine(receivable, 0m, r.Upsell, party, description),
        ]);
        StepResult step = await ledger.EnsureStepAsync(
            returnId,
            OutcomeSteps.ExchangeUpsellPayment,
            async c => (await fulfil.FindJournalEntryAsync(reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => (await fulfil.CreateJournalEntryAsync(request, c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        FulfilJournalEntry posted = await fulfil.PostJournalEntryAsync(int.Parse(step.DocumentId, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (!posted.Lines.Any(l => l.AccountId == receivable && l.PartyId == party && l.Credit == r.Upsell) || posted.Lines.Sum(l => l.Credit) != r.Upsell)
        {
            // E.g. an upsell journal booked before this settlement existed (clearing to clearing): finance reverses it by hand.
            throw Mismatch(returnId, $"journal {posted.Number ?? step.DocumentId} ({reference}) does not credit the customer's receivable with the upsell of {Text(r.Upsell)}.");
        }
    }

    private SettlementResult Wait(string returnId, string reason)
    {
        LogWaiting(logger, returnId, reason);
        return new SettlementResult(SettlementState.Waiting, reason);
    }

    private static ReturnStageException Mismatch(string returnId, string why) =>
        new(ExceptionCategory.AmountMismatch, $"Exchange settlement of return {returnId}: {why}") { DetailKey = "exchange-settlement" };

    private static string Text(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);

    private static string Text(int id) => id.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4666, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange settlement waits: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string returnId, string reason);

    [LoggerMessage(EventId = 4667, Level = LogLevel.Information, Message = "Return {ReturnId}: receivable settled as {Name} (now: {Created})")]
    private static partial void LogSettled(ILogger logger, string returnId, string name, bool created);
}
