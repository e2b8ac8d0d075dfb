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
    private readonly IFulfilClient fulfil;
    private readonly IFulfilOutcomesClient outcomes;
    private readonly ReturnLedger ledger;
    private readonly PostingStore postings;
    private readonly IOptionsMonitor<RefundsOptions> options;
    private readonly IOptionsMonitor<FulfilOptions> fulfilOptions;
    private readonly TimeProvider time;

    public RefundPoster(IFulfilClient fulfil, IFulfilOutcomesClient outcomes, ReturnLedger ledger, PostingStore postings, IOptionsMonitor<RefundsOptions> options, IOptionsMonitor<FulfilOptions> fulfilOptions, TimeProvider time)
    {
        this.fulfil = fulfil;
        this.outcomes = outcomes;
        this.ledger = ledger;
        this.postings = postings;
        this.options = options;
        this.fulfilOptions = fulfilOptions;
        this.time = time;
    }

    /// <summary>
    /// Claims the pending posting (one worker at a time), posts the document (or finds it posted) and, as the claim's
    /// holder, marks the posting posted. A posting that is no longer pending (posted or blocked meanwhile) is left alone.
    /// </summary>
    /// <exception cref="StepLeaseHeldException">Another worker is posting it (transient: retry later).</exception>
    public async Task<PostingOutcome> PostAsync(PostingRecord posting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(posting);
        PostingLease? lease = await postings.ClaimAsync(posting.ReturnId, posting.Kind, time.GetUtcNow(), ledger.LeaseDuration, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return new PostingOutcome(PostedNow: false, (await postings.GetAsync(posting.ReturnId, posting.Kind, cancellationToken).ConfigureAwait(false))?.DocumentNumber);
        }

        // The stored figures, not the caller's copy: a posting re-planned since it was read posts what is stored now.
        PostingRecord p = lease.Record;
        try
        {
            DateOnly today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            (string id, string? number) = p.Kind switch
            {
                PostingKinds.CreditNote => await CreditNoteAsync(p, today, cancellationToken).ConfigureAwait(false),
                PostingKinds.GiftCard => await GiftCardAsync(p, cancellationToken).ConfigureAwait(false),
                _ => await JournalAsync(p, today, cancellationToken).ConfigureAwait(false),
            };
            await postings.MarkPostedAsync(lease, id, number, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return new PostingOutcome(PostedNow: true, number);
        }
        catch
        {
            await postings.ReleaseAsync(lease, time.GetUtcNow()).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<(string Id, string? Number)> CreditNoteAsync(PostingRecord p, DateOnly today, CancellationToken ct)
    {
        int party = p.PartyId ?? throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Posting {p.Reference}: the customer (original sale party) is unknown.") { DetailKey = p.Kind };
        StepResult step = await ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await fulfil.FindCreditNoteAsync(p.Reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => options.CurrentValue.CreditNoteSource == CreditNoteSource.InvoiceFromReturnOrder
                ? await TakeOverReturnOrderInvoiceAsync(p, c).ConfigureAwait(false)
                : (await fulfil.CreateCreditNoteAsync(
                    new FulfilCreditNoteRequest(p.Reference, party, today, $"Loop return {p.ReturnId}: refund to original payment",
                        [new FulfilCreditNoteLine(null, $"Loop return {p.ReturnId} refund", -1m, p.Amount, await AccountAsync(fulfilOptions.CurrentValue.ReturnsClearingAccountCode, "Fulfil:ReturnsClearingAccountCode", c).ConfigureAwait(false))]),
                    c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        int id = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        FulfilCreditNote posted = await fulfil.PostCreditNoteAsync(id, ct).ConfigureAwait(false);
        if (posted.TotalAmount != -p.Amount)
        {
            // A document found by our reference with another amount was not made by us for this figure.
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Credit note {posted.Number ?? step.DocumentId} ({p.Reference}) totals {posted.TotalAmount.ToString(CultureInfo.InvariantCulture)} but the refund is {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}.") { DetailKey = p.Kind };
        }

        return (step.DocumentId, posted.Number);
    }

    private async Task<string> TakeOverReturnOrderInvoiceAsync(PostingRecord p, CancellationToken ct)
    {
        int order = p.ReturnOrderId ?? throw new ReturnStageException(ExceptionCategory.OrderNotFound, $"Posting {p.Reference}: the return order is unknown.") { DetailKey = p.Kind };
        FulfilSaleInvoice[] credits = [.. (await outcomes.GetInvoicesOfSaleAsync(order, ct).ConfigureAwait(false)).Where(i => i.TotalAmount < 0)];
        if (credits.Length == 0)
        {
            // Fulfil invoices return orders on its own schedule (invoice method "order" or "shipment"): a transient wait,
            // never a fallback to building one, since Fulfil's own invoice would then make two credit notes for one
            // refund. Realtime: redelivered, and dead-lettered past the delivery limit (reconciliation then reports the
            // missing credit note); Scheduled: stays pending for the next batch. Tested in CreditNoteFromReturnOrderTests.
            throw new TransientIntegrationException($"Return order {order} has no credit note yet; waiting for Fulfil to generate it.");
        }

        FulfilSaleInvoice? match = credits.FirstOrDefault(i => i.TotalAmount == -p.Amount);
        if (match is null)
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Return order {order} credit note(s) total {string.Join(", ", credits.Select(c => c.TotalAmount.ToString(CultureInfo.InvariantCulture)))} but Loop refunded {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}; nothing was posted.") { DetailKey = p.Kind };
        }

        if (match.State is "draft" or "validated")
        {
            await outcomes.SetInvoiceReferenceAsync(match.Id, p.Reference, ct).ConfigureAwait(false);
        }

        return match.Id.ToString(CultureInfo.InvariantCulture);
    }

    private async Task<(string Id, string? Number)> GiftCardAsync(PostingRecord p, CancellationToken ct)
    {
        StepResult step = await ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await outcomes.FindGiftCardAsync(p.Reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => (await outcomes.CreateGiftCardAsync(p.Reference, p.Amount, p.Currency, $"Loop return {p.ReturnId}: store credit", c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        FulfilGiftCard card = await outcomes.ActivateGiftCardAsync(int.Parse(step.DocumentId, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (card.Amount != p.Amount)
        {
            // A card found by our reference with another amount was not issued by us for this figure.
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Gift card {card.Number ?? step.DocumentId} ({p.Reference}) is for {card.Amount.ToString(CultureInfo.InvariantCulture)} but the store credit is {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}.") { DetailKey = p.Kind };
        }

        return (step.DocumentId, card.Number);
    }

    private async Task<(string Id, string? Number)> JournalAsync(PostingRecord p, DateOnly today, CancellationToken ct)
    {
        FulfilOptions fo = fulfilOptions.CurrentValue;
        RefundsOptions ro = options.CurrentValue;
        (string debitCode, string debitSetting, string creditCode, string creditSetting, string what) = p.Kind switch
        {
            PostingKinds.StoreCredit => (fo.ReturnsClearingAccountCode, "Fulfil:ReturnsClearingAccountCode", fo.GiftCardLiabilityAccountCode, "Fulfil:GiftCardLiabilityAccountCode", "store credit"),
            PostingKinds.HandlingFee => (fo.ReturnsClearingAccountCode, "Fulfil:ReturnsClearingAccountCode", ro.HandlingFeeAccountCode, "Refunds:HandlingFeeAccountCode", "handling fee"),
            _ => throw new ReturnStageException(ExceptionCategory.FulfilRejected, $"Unknown posting kind {p.Kind}.") { DetailKey = p.Kind },
        };
        int debit = await AccountAsync(debitCode, debitSetting, ct).ConfigureAwait(false);
        int credit = await AccountAsync(creditCode, creditSetting, ct).ConfigureAwait(false);
        string description = $"Loop return {p.ReturnId} {what} {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency}";
        var request = new FulfilJournalEntryRequest(p.Reference, today,
        [
            new FulfilJournalLine(debit, p.Amount, 0m, null, description),
            new FulfilJournalLine(credit, 0m, p.Amount, p.Kind == PostingKinds.StoreCredit ? p.PartyId : null, description),
        ]);
        StepResult step = await ledger.EnsureStepAsync(
            p.ReturnId,
            OutcomeSteps.Posting(p.Kind),
            async c => (await fulfil.FindJournalEntryAsync(p.Reference, c).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async c => (await fulfil.CreateJournalEntryAsync(request, c).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            ct).ConfigureAwait(false);
        FulfilJournalEntry posted = await fulfil.PostJournalEntryAsync(int.Parse(step.DocumentId, CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (posted.Lines.Sum(l => l.Debit) != p.Amount || posted.Lines.Sum(l => l.Credit) != p.Amount)
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Journal entry {posted.Number ?? step.DocumentId} ({p.Reference}) does not carry {p.Amount.ToString(CultureInfo.InvariantCulture)} {p.Currency} on each side.") { DetailKey = p.Kind };
        }

        return (step.DocumentId, posted.Number);
    }

    private async Task<int> AccountAsync(string code, string setting, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"{setting} is not set; finance must name the account before this return can be posted.") { DetailKey = "account:" + setting };
        }

        IReadOnlyList<FulfilAccount> found = await fulfil.GetAccountsByCodesAsync([code], ct).ConfigureAwait(false);
        return found.FirstOrDefault(a => string.Equals(a.Code, code, StringComparison.Ordinal))?.Id
            ?? throw new ReturnStageException(ExceptionCategory.AmountMismatch, $"Fulfil has no account with code '{code}' ({setting}).") { DetailKey = "account:" + setting };
    }
}

/// <param name="PostedNow">True when this call marked the posting posted (false: it was posted or blocked already).</param>
/// <param name="Number">The Fulfil document number, when known.</param>
public sealed record PostingOutcome(bool PostedNow, string? Number);
