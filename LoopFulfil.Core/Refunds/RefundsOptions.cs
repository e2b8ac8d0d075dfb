namespace LoopFulfil.Core.Refunds;

/// <summary>When financial documents reach Fulfil.</summary>
public enum PostingMode
{
    /// <summary>Posted while the closed return is handled.</summary>
    Realtime,

    /// <summary>Worked out when the return closes, stored as pending postings, posted in one batch by <see cref="ScheduledPostingJob"/>.</summary>
    Scheduled,
}

/// <summary>Where the refund credit note comes from.</summary>
public enum CreditNoteSource
{
    /// <summary>LoopFulfil creates the credit note (one line, the refunded amount).</summary>
    Create,

    /// <summary>Fulfil generated it from the return order: LoopFulfil finds it, checks the amount, references and posts it.</summary>
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

    public CreditNoteSource CreditNoteSource { get; set; } = CreditNoteSource.Create;

    /// <summary>
    /// What store credit becomes in Fulfil. Decided when the return's postings are planned: a return already planned
    /// with the other document keeps it, so switching never issues store credit twice.
    /// </summary>
    public StoreCreditDocument StoreCreditDocument { get; set; } = StoreCreditDocument.Journal;

    /// <summary>
    /// Largest accepted difference between the sum of line refunds and the header split (refund + store credit +
    /// exchange credit + handling fee). Beyond it: AmountMismatch and nothing is posted for the return.
    /// </summary>
    public decimal AmountTolerance { get; set; }

    /// <summary>
    /// ISO code of the Fulfil company currency. A return in another currency raises AmountMismatch rather than being
    /// posted as if it were this currency (LoopFulfil does not convert).
    /// </summary>
    public string CompanyCurrency { get; set; } = "USD";

    /// <summary>Revenue account credited with handling fees (<c>LOOP-{id}-FEE</c>, debit returns clearing).</summary>
    public string HandlingFeeAccountCode { get; set; } = "";
}
