using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>The money and exchanges of a closed return, checked with the formulas the books use (docs/accounting.md).</summary>
public sealed partial class ReconciliationJob
{
    /// <summary>
    /// What a closed return owes Fulfil, from Loop's figures as the refunds stage reads them (<see cref="ReturnMoney"/>,
    /// the bonus from the recorded <c>giftcard.requested</c>), compared with its documents. A return the processing
    /// gate held (closed without processing) owes nothing until finance answers; a posting blocked by an exception
    /// record is reported as blocked, not missing.
    /// </summary>
    private async Task CheckClosedReturnAsync(
        LoopReturn r,
        FulfilLoopDocument[] docs,
        IReadOnlyList<StepRecord> steps,
        string cur,
        ReconciliationOptions o,
        ExceptionOptions eo,
        List<ReconciliationMismatch> mismatches,
        Dictionary<(RefundType, string), (int, decimal, decimal)> totals,
        List<string> confirmed,
        CancellationToken cancellationToken)
    {
        var id = r.Id!;
        void Add(ReconciliationMismatchKind kind, string? reference, string expected, string actual, string detail, string? exceptionId = null) =>
            mismatches.Add(new ReconciliationMismatch(kind, id, ReconciliationMismatchKinds.OwnerOf(kind, eo, o), reference, expected, actual, cur, detail) { ExceptionId = exceptionId });

        if (await HeldByGateAsync().ConfigureAwait(false))
        {
            return;
        }

        var planned = (await _postings.ForReturnAsync(id, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Kind, StringComparer.Ordinal);
        var money = ReturnMoney.Of(r, await GiftCardEventAsync(id, cancellationToken).ConfigureAwait(false));
        var creditNotes = await CreditNotesAsync().ConfigureAwait(false);
        FulfilLoopDocument[] Journals(string kind) => [.. docs.Where(d => d.Type == LoopDocumentType.JournalEntry && d.Reference == _references.Of(id, kind))];
        var storeCredits = Journals(LoopReferences.StoreCredit);
        var bonuses = Journals(LoopReferences.GiftCardBonus);
        var refundPayments = Journals(LoopReferences.RefundPayment);
        FulfilLoopDocument[] giftCards = [.. docs.Where(d => d.Type == LoopDocumentType.GiftCard && d.Reference == _references.Of(id, LoopReferences.GiftCard))];
        var fees = Journals(LoopReferences.HandlingFee);
        var refundTotal = refundPayments.Sum(d => d.Amount ?? 0m);

        // docs/accounting.md: the one credit note credits every returned unit less the fee; the refund payment is R.
        // An ERP credit note posted before LoopFulfil saw it credits V; its fee F is the LOOP-{id}-FEE journal.
        if (fees.Length > 0 || planned.ContainsKey(LoopReferences.HandlingFee))
        {
            Check(ReconciliationMismatchKind.CreditNoteMismatch, LoopReferences.CreditNote, money.Value, creditNotes, -creditNotes.Sum(d => d.Amount ?? 0m), "credit note", "returned value (its fee is a journal of its own)");
            Check(ReconciliationMismatchKind.JournalMismatch, LoopReferences.HandlingFee, money.HandlingFee, fees, fees.Sum(d => d.Amount ?? 0m), "handling-fee journal", "handling fee");
        }
        else
        {
            Check(ReconciliationMismatchKind.CreditNoteMismatch, LoopReferences.CreditNote, money.Credited, creditNotes, -creditNotes.Sum(d => d.Amount ?? 0m), "credit note", "returned value less handling fee");
        }

        Check(ReconciliationMismatchKind.JournalMismatch, LoopReferences.RefundPayment, money.Refund, refundPayments, refundTotal, "refund payment journal", "cash refund");
        // Rows 4 and 5, in both modes: the store credit settles the receivable with G − B, the bonus B from its own account.
        var journalTotal = storeCredits.Sum(d => d.Amount ?? 0m);
        var bonusTotal = bonuses.Sum(d => d.Amount ?? 0m);
        var storeCreditTotal = journalTotal + bonusTotal;
        Check(ReconciliationMismatchKind.JournalMismatch, LoopReferences.StoreCredit, money.StoreCredit - money.Bonus, storeCredits, journalTotal, "store-credit journal", "store credit less bonus");
        Check(ReconciliationMismatchKind.JournalMismatch, LoopReferences.GiftCardBonus, money.Bonus, bonuses, bonusTotal, "store-credit bonus journal", "gift-card bonus");
        if (GiftCardOwed())
        {
            // The customer's card carries the whole credit issued (the journals above book it).
            storeCreditTotal = giftCards.Sum(d => d.Amount ?? 0m);
            Check(ReconciliationMismatchKind.GiftCardMismatch, LoopReferences.GiftCard, money.StoreCredit, giftCards, storeCreditTotal, "store-credit gift card", "store credit");
        }

        var exchanges = ExchangeGroups.Of(r);
        var exchangeTotal = 0m;
        foreach (var key in exchanges.Keys)
        {
            var reference = _references.Of(id, key);
            FulfilLoopDocument[] orders = [.. docs.Where(d => d.Type == LoopDocumentType.ExchangeOrder && d.Reference == reference)];
            exchangeTotal += orders.Sum(d => d.Amount ?? 0m);
            if (orders.Length == 0)
            {
                Add(ReconciliationMismatchKind.MissingExchangeOrder, reference, "sales order", ReconciliationValues.Missing,
                    $"Loop confirmed exchange {key} of return {id} but Fulfil has no sales order {reference}.");
            }
        }

        AddTotal(RefundType.CashRefund, money.Refund, refundTotal);
        AddTotal(RefundType.StoreCredit, money.StoreCredit, storeCreditTotal);
        AddTotal(RefundType.Exchange, r.ExchangeCreditTotal, exchangeTotal);

        void AddTotal(RefundType type, decimal loopAmount, decimal fulfilAmount)
        {
            if (loopAmount == 0m && fulfilAmount == 0m)
            {
                return;
            }

            (var n, var l, var f) = totals.GetValueOrDefault((type, cur));
            totals[(type, cur)] = (n + 1, l + loopAmount, f + fulfilAmount);
        }

        // Row 12: the gate's verdict is the ledger step; without it (and without a payload sign) the gate's record says
        // whether finance was asked (open), answered "nothing to post" (confirmed) or "it ran" (owed, healed as usual).
        // No record at all: the return's closing was never handled, so its documents are owed and a heal runs the gate.
        async Task<bool> HeldByGateAsync()
        {
            if (steps.Any(s => s.Step == ReturnSteps.LoopProcessed && s.Status == StepStatus.Done) || ProcessingGate.PayloadEvidence(r) is not null
                || await _exceptions.GetAsync(ProcessingGate.ClosedRecordId(id), cancellationToken).ConfigureAwait(false) is not { } record)
            {
                return false;
            }

            if (ProcessingGate.IsNothingToPost(record))
            {
                confirmed.Add(id);
                return true;
            }

            if (record.Status == ExceptionStatus.Resolved)
            {
                return false;
            }

            Add(ReconciliationMismatchKind.ClosedWithoutProcessing, null, "processed, or confirmed by finance", record.Status.ToString().ToLowerInvariant(),
                $"Loop closed return {id} with no sign its outcomes ran; nothing is posted until finance confirms (exception {record.Id}).", record.Id);
            return true;
        }

        // By our reference, and by the document id the ledger stored (an ERP credit note posted before it was adopted
        // does not carry the reference).
        async Task<FulfilLoopDocument[]> CreditNotesAsync()
        {
            var reference = _references.Of(id, LoopReferences.CreditNote);
            int? stored = planned.TryGetValue(LoopReferences.CreditNote, out var note) && int.TryParse(note.DocumentId, out var documentId) ? documentId : null;
            List<FulfilLoopDocument> found = [.. docs.Where(d => d.Type == LoopDocumentType.CreditNote && (d.Reference == reference || d.Id == stored))];
            if (stored is int invoice && found.All(d => d.Id != invoice)
                && await _fulfil.GetCreditNoteAsync(invoice, id, cancellationToken).ConfigureAwait(false) is { IsLive: true } byId)
            {
                found.Add(byId);
            }

            return [.. found];
        }

        // Whether the return owes a Fulfil gift card: one exists or was planned, else the current setting unless its store
        // credit was planned as a journal alone (before the setting changed: Loop's own card is the customer's).
        bool GiftCardOwed()
        {
            if (giftCards.Length > 0 || planned.ContainsKey(LoopReferences.GiftCard))
            {
                return true;
            }

            return money.StoreCredit > 0m && !planned.ContainsKey(LoopReferences.StoreCredit)
                && _refundsOptions.CurrentValue.StoreCreditDocument == StoreCreditDocument.GiftCard;
        }

        void Check(ReconciliationMismatchKind kind, string postingKind, decimal expected, FulfilLoopDocument[] found, decimal actual, string what, string loopWhat)
        {
            var reference = _references.Of(id, postingKind);
            var posting = planned.GetValueOrDefault(postingKind);
            var missing = found.Length == 0 && expected > 0m;
            var differs = found.Length > 0 && actual != expected;
            if (!missing && !differs)
            {
                return;
            }

            if (posting is { Status: PostingStatus.Blocked })
            {
                // Finance owns it through the record that holds it back: not missing, and no second record.
                Add(ReconciliationMismatchKind.PostingBlocked, reference, Money(expected), ReconciliationValues.Blocked,
                    $"The {what} {reference} ({Money(expected)} {cur}, Loop's {loopWhat} on return {id}) is held back by exception {posting.BlockedBy}: nothing is posted until finance resolves or replays it.",
                    posting.BlockedBy);
            }
            else if (missing && posting is { Status: PostingStatus.Pending })
            {
                // Scheduled posting mode (or a retry under way): a pending posting is on its way, not missing.
            }
            else if (missing)
            {
                Add(kind, reference, Money(expected), ReconciliationValues.Missing, $"Loop refunded {Money(expected)} {cur} as {loopWhat} on return {id}; Fulfil has no {what} {reference}.");
            }
            else
            {
                Add(kind, reference, Money(expected), Money(actual), $"The {what} {reference} totals {Money(actual)} {cur}; Loop's {loopWhat} on return {id} is {Money(expected)} {cur}.");
            }
        }
    }

    /// <summary>The return's latest recorded <c>giftcard.requested</c> (G and B, docs/accounting.md row 5), or null.</summary>
    private async Task<LoopGiftCardEvent?> GiftCardEventAsync(string returnId, CancellationToken cancellationToken)
    {
        var recorded = await _ledger.GetEventsAsync(returnId, ReturnTriggers.GiftCardRequested, cancellationToken).ConfigureAwait(false);
        return recorded.Count == 0 ? null : LoopJson.Deserialize<LoopGiftCardEvent>(recorded[^1].Body);
    }
}
