using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Refunds;

/// <summary>
/// Puts one stored posting into Fulfil exactly once: a ledger step around "find by reference, else create", then
/// post (a no-op when already posted). Used by the refunds stage (Realtime) and <see cref="ScheduledPostingJob"/>.
/// Throws transient errors for retry, <see cref="PermanentIntegrationException"/>s (AmountMismatch as a
/// <see cref="ReturnStageException"/>) for a person.
/// </summary>
public sealed class RefundPoster
{
    private readonly IFulfilClient _fulfil;
    private readonly IFulfilOutcomesClient _outcomes;
    private readonly ReturnLedger _ledger;
    private readonly PostingStore _postings;
    private readonly IOptionsMonitor<RefundsOptions> _options;
    private readonly IOptionsMonitor<FulfilOptions> _fulfilOptions;
    private readonly TimeProvider _time;
    private readonly LoopReferences _references;

    public RefundPoster(IFulfilClient fulfil, IFulfilOutcomesClient outcomes, ReturnLedger ledger, PostingStore postings, IOptionsMonitor<RefundsOptions> options, IOptionsMonitor<FulfilOptions> fulfilOptions, TimeProvider time, LoopReferences references)
    {
        _fulfil = fulfil;
        _outcomes = outcomes;
        _ledger = ledger;
        _postings = postings;
        _options = options;
        _fulfilOptions = fulfilOptions;
        _time = time;
        _references = references;
    }

    /// <summary>
    /// Claims the pending posting (one worker at a time), posts the document (or finds it posted) and, as the claim's
    /// holder, marks the posting posted. A posting that is no longer pending (posted or blocked meanwhile) is left alone.
    /// </summary>
    /// <exception cref="StepLeaseHeldException">Another worker is posting it (transient: retry later).</exception>
    public Task<PostingOutcome> PostAsync(PostingRecord posting, CancellationToken cancellationToken) => PostAsync(posting, announce: false, cancellationToken);

    /// <summary>As <see cref="PostAsync(PostingRecord, CancellationToken)"/>; <paramref name="announce"/>: the claim marks the return as owed a <c>postings.posted</c> message (<see cref="PostingStore.AnnounceDueAsync"/>).</summary>
    public async Task<PostingOutcome> PostAsync(PostingRecord posting, bool announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(posting);
        var lease = await _postings.ClaimAsync(posting.ReturnId, posting.Kind, _time.GetUtcNow(), _ledger.LeaseDuration, announce, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return new PostingOutcome(PostedNow: false, (await _postings.GetAsync(posting.ReturnId, posting.Kind, cancellationToken).ConfigureAwait(false))?.DocumentNumber);
        }

        // The stored figures, not the caller's copy: a posting re-planned since it was read posts what is stored now.
        var p = lease.Record;
        try
        {
            var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
            var separateFee = 0m;
            string id;
            string? number;
            switch (p.Kind)
            {
                case LoopReferences.CreditNote:
                    (id, number, separateFee) = await CreditNoteAsync(p, today, cancellationToken).ConfigureAwait(false);
                    break;
                case LoopReferences.GiftCard:
                    (id, number) = await GiftCardAsync(p, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    (id, number) = await JournalAsync(p, today, cancellationToken).ConfigureAwait(false);
                    break;
            }

            await _postings.MarkPostedAsync(lease, id, number, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (separateFee > 0)
            {
                await PostSeparateFeeAsync(p, separateFee, cancellationToken).ConfigureAwait(false);
            }

            return new PostingOutcome(PostedNow: true, number);
        }
        catch
        {
            await _postings.ReleaseAsync(lease, _time.GetUtcNow()).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The handling fee of a credit note the ERP posted before LoopFulfil could add the fee line: its own journal
    /// <c>LOOP-{id}-FEE</c> (Dr receivable F, Cr handling-fee income F), stored as a posting so the settlement waits
    /// for it and a redelivery posts it (the stage posts a return's pending postings).
    /// </summary>
    private async Task PostSeparateFeeAsync(PostingRecord note, decimal fee, CancellationToken ct)
    {
        var record = await AddSeparateFeeAsync(note, fee, ct).ConfigureAwait(false);
        if (record.Status == PostingStatus.Pending)
        {
            await PostAsync(record, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores the pending <c>FEE</c> posting (idempotent: the stored one when it exists). Called as soon as the fee is
    /// known to need its own journal, before the credit note is posted or marked posted, so a crash in between leaves
    /// the fee pending for the redelivery instead of lost.
    /// </summary>
    private async Task<PostingRecord> AddSeparateFeeAsync(PostingRecord note, decimal fee, CancellationToken ct)
    {
        (var record, _) = await _postings.AddAsync(new PostingRecord
        {
            ReturnId = note.ReturnId,
            Kind = LoopReferences.HandlingFee,
            Reference = _references.Of(note.ReturnId, LoopReferences.HandlingFee),
            Currency = note.Currency,
            Amount = fee,
            Status = PostingStatus.Pending,
            PartyId = note.PartyId,
            ReturnOrderId = note.ReturnOrderId,
            CreatedAt = _time.GetUtcNow(),
        }, ct).ConfigureAwait(false);
        return record;
    }

    /// <summary>
    /// The return's one credit note (docs/accounting.md, "one credit document per refund"). Every attempt looks up
    /// first, by our reference and then by the return sale, so a retry after a commit never makes a second one. The
    /// ERP's own credit note of the return sale (invoice method order or shipment) is adopted: the handling-fee line is
    /// added while it is draft, our reference written, its total and tax checked against Loop, then it is posted. Only
    /// when the return sale is invoiced manually does LoopFulfil create it, from the return sale's lines and taxes.
    /// </summary>
    /// <returns>The credit note, and the fee left to its own journal (0 when the fee is a line of the credit note).</returns>
    private async Task<(string Id, string? Number, decimal SeparateFee)> CreditNoteAsync(PostingRecord p, DateOnly today, CancellationToken ct)
    {
        var party = p.PartyId ?? throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Posting {p.Reference}: the customer (original sale party) is unknown.") { DetailKey = p.Kind };
        var step = await _ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await FindCreditNoteAsync(p, c).ConfigureAwait(false))?.ToString(CultureInfo.InvariantCulture),
            async c => (await CreateCreditNoteAsync(p, party, today, c).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        var id = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        var note = await _fulfil.GetCreditNoteAsync(id, ct).ConfigureAwait(false);
        if (note.State == "paid" && !string.Equals(note.Reference, p.Reference, StringComparison.Ordinal))
        {
            // Adopted already paid: the existing process settled its receivable (refunded the customer), so a refund
            // payment or store credit from LoopFulfil would pay twice. Held for finance with everything it settles.
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Credit note {note.Number ?? step.DocumentId} of return order {p.ReturnOrderId} was already paid by the existing process; LoopFulfil posted no refund payment or store credit for {p.Reference}. Check the customer was refunded once, then resolve this record.") { DetailKey = "already-paid" };
        }

        var separateFee = 0m;
        if (note.State is "draft" or "validated")
        {
            await AddFeeLineAsync(p, id, ct).ConfigureAwait(false);
            if (!string.Equals(note.Reference, p.Reference, StringComparison.Ordinal))
            {
                await _outcomes.SetInvoiceReferenceAsync(id, p.Reference, ct).ConfigureAwait(false);
            }

            await AddRoundingLineAsync(p, id, ct).ConfigureAwait(false);

            // Checked while draft: a credit note that disagrees with Loop is never posted.
            CheckCreditNote(p, await _fulfil.GetCreditNoteAsync(id, ct).ConfigureAwait(false), step.DocumentId, 0m, await RoundingAllowanceAsync(id, ct).ConfigureAwait(false));
        }
        else if (p.HandlingFee > 0 && !await HasFeeLineAsync(p, id, ct).ConfigureAwait(false))
        {
            // The ERP posted its credit note before LoopFulfil saw it: it can take neither our reference nor the fee
            // line (Tryton: a posted invoice is read-only). It credits V; the fee becomes its own journal.
            separateFee = p.HandlingFee;
            await AddSeparateFeeAsync(p, separateFee, ct).ConfigureAwait(false);
        }

        var posted = await _fulfil.PostCreditNoteAsync(id, ct).ConfigureAwait(false);
        CheckCreditNote(p, posted, step.DocumentId, separateFee, await RoundingAllowanceAsync(id, ct).ConfigureAwait(false));
        return (step.DocumentId, posted.Number, separateFee);
    }

    /// <summary>Ours by reference, else the live credit note the ERP made for the return sale.</summary>
    private async Task<int?> FindCreditNoteAsync(PostingRecord p, CancellationToken ct)
    {
        if (await _fulfil.FindCreditNoteAsync(p.Reference, ct).ConfigureAwait(false) is { } ours)
        {
            return ours.Id;
        }

        if (p.ReturnOrderId is not int order)
        {
            return null;
        }

        FulfilSaleInvoice[] credits = [.. (await _outcomes.GetInvoicesOfSaleAsync(order, ct).ConfigureAwait(false)).Where(i => i.TotalAmount < 0)];
        if (credits.Length > 1)
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Return order {order} has {credits.Length} credit notes ({string.Join(", ", credits.Select(c => c.Number ?? FulfilOutcomesClient.Text(c.Id)))}); {p.Reference} is one credit note per return. Cancel the extra one.") { DetailKey = p.Kind };
        }

        return credits.Length == 1 ? credits[0].Id : null;
    }

    /// <summary>Runs only when no credit note exists: waits for the ERP's, or creates it when the ERP makes none.</summary>
    private async Task<int> CreateCreditNoteAsync(PostingRecord p, int party, DateOnly today, CancellationToken ct)
    {
        var order = p.ReturnOrderId ?? throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Posting {p.Reference}: the return order is unknown.") { DetailKey = p.Kind };
        if (!await ErpInvoicesReturnAsync(order, ct).ConfigureAwait(false))
        {
            return (await _fulfil.CreateCreditNoteAsync(await CreditNoteRequestAsync(p, order, party, today, ct).ConfigureAwait(false), ct).ConfigureAwait(false)).Id;
        }

        // Invoice method order or shipment: Fulfil credits the return sale on its own schedule (shipment: once received).
        // A transient wait, never a fallback to building one, which would make two credit notes for one return.
        // Realtime: redelivered, dead-lettered past the delivery limit (reconciliation then reports the missing credit
        // note); Scheduled: stays pending for the next batch.
        throw new TransientIntegrationException($"Return order {order} has no credit note yet; waiting for Fulfil to generate it.");
    }

    /// <summary>
    /// Whether the ERP makes the return sale's credit note itself: the return sale's invoice method (manual: no),
    /// unless <see cref="RefundsOptions.CreditNoteSource"/> overrides it, or must when Fulfil does not answer the method.
    /// </summary>
    private async Task<bool> ErpInvoicesReturnAsync(int order, CancellationToken ct)
    {
        var source = _options.CurrentValue.CreditNoteSource;
        if (source == CreditNoteSource.InvoiceFromReturnOrder)
        {
            return true;
        }

        var method = await _outcomes.GetInvoiceMethodAsync(order, ct).ConfigureAwait(false);
        if (source == CreditNoteSource.Create)
        {
            if (method is "order" or "shipment")
            {
                // Creating one here and Fulfil invoicing the return sale too would credit the customer twice.
                throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Refunds:CreditNoteSource is Create but Fulfil invoices return order {order} itself (invoice method '{method}'), so a credit note LoopFulfil made would be a second one. Nothing was credited: set Refunds:CreditNoteSource to Detect (or set the return sale's invoice method to manual in Fulfil), then replay this record.") { DetailKey = "credit-note-source" };
            }

            return false;
        }

        return method switch
        {
            "manual" => false,
            "order" or "shipment" => true,
            var other => throw new ReturnStageException(ExceptionCategory.FulfilRejected, $"Return order {order} has invoice method '{other ?? "(not answered)"}'; LoopFulfil cannot tell whether Fulfil makes its credit note. Set Refunds:CreditNoteSource to Create or InvoiceFromReturnOrder.") { DetailKey = "credit-note-source" },
        };
    }

    /// <summary>A line per return-sale line (its quantity, price and the sale line's taxes), plus the handling-fee line.</summary>
    private async Task<FulfilCreditNoteRequest> CreditNoteRequestAsync(PostingRecord p, int order, int party, DateOnly today, CancellationToken ct)
    {
        var lines = new List<FulfilCreditNoteLine>();
        foreach (var l in await _outcomes.GetSaleLinesAsync(order, ct).ConfigureAwait(false))
        {
            if (l.Quantity < 0)
            {
                lines.Add(new FulfilCreditNoteLine(l.ProductId, l.Description ?? $"Loop return {p.ReturnId}", l.Quantity, l.UnitPrice, null, l.TaxIds));
            }
        }

        if (lines.Count == 0)
        {
            throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Return order {order} has no returned lines to credit ({p.Reference}).") { DetailKey = p.Kind };
        }

        if (p.HandlingFee > 0)
        {
            lines.Add(new FulfilCreditNoteLine(null, FeeDescription(p), 1m, p.HandlingFee, await FeeAccountAsync(ct).ConfigureAwait(false)));
        }

        var receivable = await _outcomes.GetPartyReceivableAsync(party, ct).ConfigureAwait(false);
        return new FulfilCreditNoteRequest(p.Reference, party, today, $"Loop return {p.ReturnId}", lines, ReceivableAccountId: receivable);
    }

    /// <summary>Adds the handling-fee line to a draft credit note unless it carries it already.</summary>
    private async Task AddFeeLineAsync(PostingRecord p, int invoiceId, CancellationToken ct)
    {
        if (p.HandlingFee > 0 && !await HasFeeLineAsync(p, invoiceId, ct).ConfigureAwait(false))
        {
            await _outcomes.AddInvoiceLineAsync(invoiceId, await FeeAccountAsync(ct).ConfigureAwait(false), 1m, p.HandlingFee, FeeDescription(p), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Tax rounding (docs/accounting.md): when Fulfil's tax differs from Loop's per-unit tax by no more than the rounding
    /// allowance and that is the whole difference in the total, a line of the difference on
    /// <see cref="RefundsOptions.RoundingAccountCode"/> makes the draft credit exactly what Loop refunded (so the
    /// receivable nets); Fulfil's tax stays as it computed it. Repeats add nothing: the difference is then 0.
    /// </summary>
    private async Task AddRoundingLineAsync(PostingRecord p, int invoiceId, CancellationToken ct)
    {
        var code = _options.CurrentValue.RoundingAccountCode;
        if (string.IsNullOrWhiteSpace(code))
        {
            return;
        }

        var note = await _fulfil.GetCreditNoteAsync(invoiceId, ct).ConfigureAwait(false);
        var difference = -p.Amount - note.TotalAmount;
        var taxDifference = -p.Tax - note.TaxAmount;
        if (difference == 0 || difference != taxDifference || Math.Abs(difference) > await RoundingAllowanceAsync(invoiceId, ct).ConfigureAwait(false))
        {
            return;
        }

        var account = await AccountAsync(code, "Refunds:RoundingAccountCode", ct).ConfigureAwait(false);
        await _outcomes.AddInvoiceLineAsync(invoiceId, account, 1m, difference, $"Loop return {p.ReturnId} tax rounding (per unit in Loop)", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// What per-unit (Loop) and per-line or per-document (Fulfil) tax rounding can differ by on this credit note: the
    /// tolerance, or the currency unit × ⌊n/2⌋ for its n returned units, whichever is larger.
    /// </summary>
    private async Task<decimal> RoundingAllowanceAsync(int invoiceId, CancellationToken ct)
    {
        var o = _options.CurrentValue;
        if (o.TaxRoundingUnit <= 0)
        {
            return o.AmountTolerance;
        }

        int? fee = string.IsNullOrWhiteSpace(o.HandlingFeeAccountCode) ? null : await FeeAccountAsync(ct).ConfigureAwait(false);
        int? rounding = string.IsNullOrWhiteSpace(o.RoundingAccountCode) ? null : await AccountAsync(o.RoundingAccountCode, "Refunds:RoundingAccountCode", ct).ConfigureAwait(false);
        var units = (await _outcomes.GetInvoiceLinesAsync(invoiceId, ct).ConfigureAwait(false))
            .Where(l => l.AccountId is not { } a || (a != fee && a != rounding))
            .Sum(l => Math.Abs(l.Quantity));
        return Math.Max(o.AmountTolerance, o.TaxRoundingUnit * Math.Floor(units / 2));
    }

    private async Task<bool> HasFeeLineAsync(PostingRecord p, int invoiceId, CancellationToken ct)
    {
        var account = await FeeAccountAsync(ct).ConfigureAwait(false);
        var lines = await _outcomes.GetInvoiceLinesAsync(invoiceId, ct).ConfigureAwait(false);
        return lines.Any(l => l.AccountId == account && l.Quantity * l.UnitPrice == p.HandlingFee);
    }

    /// <summary>
    /// The credit note must credit V − F (V when the fee is its own journal, <paramref name="separateFee"/>), and its tax
    /// (Fulfil's, from the sale lines' taxes) must be Loop's T.
    /// </summary>
    private void CheckCreditNote(PostingRecord p, FulfilCreditNote note, string documentId, decimal separateFee, decimal taxAllowance)
    {
        var tolerance = _options.CurrentValue.AmountTolerance;
        var what = $"Credit note {note.Number ?? documentId} ({p.Reference})";
        if (Math.Abs(note.TaxAmount + p.Tax) > taxAllowance)
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"{what} reverses tax {Text(note.TaxAmount)} but Loop's tax on the returned lines is {Text(p.Tax)} {p.Currency}; nothing more is posted for it.") { DetailKey = p.Kind };
        }

        if (Math.Abs(note.TotalAmount + p.Amount + separateFee) > tolerance)
        {
            var fee = separateFee > 0 ? $"the returned value; its handling fee {Text(separateFee)} is a journal of its own" : $"returned value less handling fee {Text(p.HandlingFee)}";
            var rounding = Math.Abs(note.TotalAmount + p.Amount + separateFee) <= taxAllowance && string.IsNullOrWhiteSpace(_options.CurrentValue.RoundingAccountCode)
                ? " The difference is tax rounding (Loop per unit, Fulfil per line): set Refunds:RoundingAccountCode to book it."
                : string.Empty;
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"{what} totals {Text(note.TotalAmount)} but Loop credits {Text(-(p.Amount + separateFee))} {p.Currency} ({fee}); nothing more is posted for it.{rounding}") { DetailKey = p.Kind };
        }
    }

    private Task<int> FeeAccountAsync(CancellationToken ct) => AccountAsync(_options.CurrentValue.HandlingFeeAccountCode, "Refunds:HandlingFeeAccountCode", ct);

    private static string FeeDescription(PostingRecord p) => $"Loop return {p.ReturnId} handling fee";

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private async Task<(string Id, string? Number)> GiftCardAsync(PostingRecord p, CancellationToken ct)
    {
        var step = await _ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await _outcomes.FindGiftCardAsync(p.Reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => (await _outcomes.CreateGiftCardAsync(p.Reference, p.Amount, p.Currency, $"Loop return {p.ReturnId}: store credit", c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        var card = await _outcomes.ActivateGiftCardAsync(int.Parse(step.DocumentId, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (card.Amount != p.Amount)
        {
            // A card found by our reference with another amount was not issued by us for this figure.
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Gift card {card.Number ?? step.DocumentId} ({p.Reference}) is for {card.Amount.ToString(CultureInfo.InvariantCulture)} but the store credit is {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}.") { DetailKey = p.Kind };
        }

        return (step.DocumentId, card.Number);
    }

    /// <summary>
    /// A balanced journal. Refund payment and store credit settle the receivable the credit note credited (its own
    /// account), so that the return's receivable nets to zero (docs/accounting.md rows 1, 4, 5).
    /// </summary>
    private async Task<(string Id, string? Number)> JournalAsync(PostingRecord p, DateOnly today, CancellationToken ct)
    {
        var fo = _fulfilOptions.CurrentValue;
        var ro = _options.CurrentValue;
        (var debit, var credit, var what) = p.Kind switch
        {
            LoopReferences.RefundPayment => (await ReceivableAsync(p, ct).ConfigureAwait(false), await AccountAsync(fo.ReturnsClearingAccountCode, "Fulfil:ReturnsClearingAccountCode", ct).ConfigureAwait(false), "refund to original payment"),
            LoopReferences.StoreCredit => (await ReceivableAsync(p, ct).ConfigureAwait(false), await AccountAsync(fo.GiftCardLiabilityAccountCode, "Fulfil:GiftCardLiabilityAccountCode", ct).ConfigureAwait(false), "store credit"),
            LoopReferences.GiftCardBonus => (await AccountAsync(ro.GiftCardBonusAccountCode, "Refunds:GiftCardBonusAccountCode", ct).ConfigureAwait(false), await AccountAsync(fo.GiftCardLiabilityAccountCode, "Fulfil:GiftCardLiabilityAccountCode", ct).ConfigureAwait(false), "store-credit bonus"),
            // Only for a credit note the ERP posted without the fee line: the fee reduces what the customer is owed.
            LoopReferences.HandlingFee => (await ReceivableAsync(p, ct).ConfigureAwait(false), await FeeAccountAsync(ct).ConfigureAwait(false), "handling fee"),
            _ => throw new ReturnStageException(ExceptionCategory.FulfilRejected, $"Unknown posting kind {p.Kind}.") { DetailKey = p.Kind },
        };
        var description = $"Loop return {p.ReturnId} {what} {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}";
        // The party goes on every line; the client keeps it only where the account takes one (the receivable).
        var request = new FulfilJournalEntryRequest(p.Reference, today,
        [
            new FulfilJournalLine(debit, p.Amount, 0m, p.PartyId, description),
            new FulfilJournalLine(credit, 0m, p.Amount, p.PartyId, description),
        ]);
        var step = await _ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await _fulfil.FindJournalEntryAsync(p.Reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => (await _fulfil.CreateJournalEntryAsync(request, c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        var posted = await _fulfil.PostJournalEntryAsync(int.Parse(step.DocumentId, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (posted.Lines.Sum(l => l.Debit) != p.Amount || posted.Lines.Sum(l => l.Credit) != p.Amount)
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Journal entry {posted.Number ?? step.DocumentId} ({p.Reference}) does not carry {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency} on each side.") { DetailKey = p.Kind };
        }

        return (step.DocumentId, posted.Number);
    }

    /// <summary>
    /// The receivable the return's posted credit note booked against, found by its posting's document id (an ERP credit
    /// note posted before we saw it may not carry our reference). Transient until that credit note is posted.
    /// </summary>
    private async Task<int> ReceivableAsync(PostingRecord p, CancellationToken ct)
    {
        var posted = await _postings.GetAsync(p.ReturnId, LoopReferences.CreditNote, ct).ConfigureAwait(false);
        var reference = posted?.Reference ?? "(not planned yet)";
        if (posted is not { Status: PostingStatus.Posted, DocumentId: { } document })
        {
            throw new TransientIntegrationException($"{p.Reference} waits for the return's credit note {reference}: it settles that credit note's receivable.");
        }

        var note = await _fulfil.GetCreditNoteAsync(int.Parse(document, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (note.AccountId is { } account)
        {
            return account;
        }

        var party = p.PartyId ?? throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Posting {p.Reference}: the customer (original sale party) is unknown.") { DetailKey = p.Kind };
        return await _outcomes.GetPartyReceivableAsync(party, ct).ConfigureAwait(false)
            ?? throw new ReturnStageException(ExceptionCategory.FulfilRejected, $"Posting {p.Reference}: neither credit note {reference} nor the customer names a receivable account.") { DetailKey = p.Kind };
    }

    private async Task<int> AccountAsync(string code, string setting, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"{setting} is not set; finance must name the account before this return can be posted.") { DetailKey = "account:" + setting };
        }

        var found = await _fulfil.GetAccountsByCodesAsync([code], ct).ConfigureAwait(false);
        return found.FirstOrDefault(a => string.Equals(a.Code, code, StringComparison.Ordinal))?.Id
            ?? throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Fulfil has no account with code '{code}' ({setting}).") { DetailKey = "account:" + setting };
    }
}

/// <param name="PostedNow">True when this call marked the posting posted (false: it was posted or blocked already).</param>
/// <param name="Number">The Fulfil document number, when known.</param>
public sealed record PostingOutcome(bool PostedNow, string? Number);
