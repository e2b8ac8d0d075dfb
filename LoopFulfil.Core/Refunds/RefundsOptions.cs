namespace LoopFulfil.Core.Refunds;

/// <summary>When financial documents reach Fulfil.</summary>
public enum PostingMode
{
    /// <summary>Posted while the closed return is handled.</summary>
    Realtime,

    /// <summary>Worked out when the return closes, stored as pending postings, posted in one batch by <see cref="ScheduledPostingJob"/>.</summary>
    Scheduled,
}

/// <summary>Who makes the return's credit note.</summary>
public enum CreditNoteSource
{
    /// <summary>
    /// Detected from the return sale's <c>invoice_method</c>: <c>manual</c> → LoopFulfil creates it; <c>order</c> or
    /// <c>shipment</c> → Fulfil makes it and LoopFulfil adopts it. The other values override the detection.
    /// </summary>
    Detect,

    /// <summary>LoopFulfil creates the credit note from the return sale's lines and taxes (Fulfil makes none).</summary>
    Create,

    /// <summary>Fulfil generates it from the return order: LoopFulfil waits for it, completes, checks, references and posts it.</summary>
    InvoiceFromReturnOrder,
}

/// <summary>Which Fulfil document records store credit (Loop's <c>gift_card</c> amount).</summary>
public enum StoreCreditDocument
{
    /// <summary>A balanced liability journal <c>LOOP-{id}-SC</c> (debit returns clearing, credit gift-card liability).</summary>
    Journal,

    /// <summary>
    /// An activated Fulfil gift card <c>LOOP-{id}-GC</c> (model <c>Fulfil:GiftCardModel</c>, reference in
    /// <c>Fulfil:GiftCardReferenceField</c>) for merchants whose store credit lives in Fulfil.
    /// </summary>
    GiftCard,
}

/// <summary>
/// Refund accounting (configuration section <c>Refunds</c>). Accounts for store credit use
/// <c>Fulfil:ReturnsClearingAccountCode</c> and <c>Fulfil:GiftCardLiabilityAccountCode</c>, journals <c>Fulfil:JournalId</c>.
/// </summary>
public sealed class RefundsOptions
{
    public const string Section = "Refunds";

    public PostingMode PostingMode { get; set; } = PostingMode.Realtime;

    /// <summary>Six-field NCRONTAB schedule of <see cref="ScheduledPostingJob"/> (Scheduled mode); default hourly.</summary>
    public string PostingSchedule { get; set; } = "0 0 * * * *";

    /// <summary>
    /// Returns <see cref="ScheduledPostingJob"/> posts at the same time (a return's own postings one after another).
    /// Each posting is under its own claim, so this bounds only the load on Fulfil; 1 posts one return at a time.
    /// </summary>
    public int PostingParallelism { get; set; } = 4;

    public CreditNoteSource CreditNoteSource { get; set; } = CreditNoteSource.Detect;

    /// <summary>
    /// What store credit becomes in Fulfil. Decided when the return's postings are planned: a return already planned
    /// with the other document keeps it, so switching never issues store credit twice.
    /// </summary>
    public StoreCreditDocument StoreCreditDocument { get; set; } = StoreCreditDocument.Journal;

    /// <summary>
    /// Largest accepted difference between what the returned lines are worth less the fee (V − F) and how Loop settled
    /// it (R + (G − B) + X − U), and between a credit note's total or tax and Loop's. Beyond it: AmountMismatch.
    /// </summary>
    public decimal AmountTolerance { get; set; }

    /// <summary>
    /// ISO code of the Fulfil company currency. A return in another currency raises AmountMismatch rather than being
    /// posted as if it were this currency (LoopFulfil does not convert).
    /// </summary>
    public string CompanyCurrency { get; set; } = "USD";

    /// <summary>Revenue account of the handling-fee line on the return's credit note (+F).</summary>
    public string HandlingFeeAccountCode { get; set; } = "";

    /// <summary>Expense account debited with the bonus Loop adds to store credit (<c>LOOP-{id}-BONUS</c>, credit gift-card liability).</summary>
    public string GiftCardBonusAccountCode { get; set; } = "";

    /// <summary>
    /// The currency's smallest unit, for tax rounding (docs/accounting.md, "Tax rounding"): Loop rounds tax per unit,
    /// Fulfil per line or per document, so n units may differ by up to this unit × ⌊n/2⌋. 0: no allowance.
    /// </summary>
    public decimal TaxRoundingUnit { get; set; } = 0.01m;

    /// <summary>
    /// Account of the rounding line LoopFulfil adds to a draft credit note whose total differs from Loop's by tax
    /// rounding only, so it credits exactly what Loop refunded. Empty: such a difference is an AmountMismatch.
    /// </summary>
    public string RoundingAccountCode { get; set; } = "";

}
