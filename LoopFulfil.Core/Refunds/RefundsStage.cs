using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Refunds;

/// <summary>
/// Refund accounting for a closed return (<c>return.closed</c>, or any later event such as <c>giftcard.requested</c>
/// once the stored snapshot is closed): a posted credit note for the amount refunded to the original payment, a
/// balanced store-credit liability journal, and journals for a handling fee and an upsell — each once. Figures that
/// do not reconcile raise AmountMismatch (finance) and nothing is posted. In Scheduled mode the documents are only
/// stored as pending postings for <see cref="ScheduledPostingJob"/>.
/// </summary>
public sealed partial class RefundsStage : IReturnStage
{
    private readonly IFulfilClient fulfil;
    private readonly PostingStore postings;
    private readonly RefundPoster poster;
    private readonly IOptionsMonitor<RefundsOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<RefundsStage> logger;

    public RefundsStage(IFulfilClient fulfil, PostingStore postings, RefundPoster poster, IOptionsMonitor<RefundsOptions> options, TimeProvider time, ILogger<RefundsStage> logger)
    {
        this.fulfil = fulfil;
        this.postings = postings;
        this.poster = poster;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    public int Order => ReturnStageOrder.Refunds;

    public string Name => "refunds";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.State != ReturnStates.Closed)
        {
            // Money is Loop's decision, final only once the return is processed (closed).
            return;
        }

        RefundsOptions o = options.CurrentValue;
        RefundPlan plan = RefundPlan.For(context.Return, o.AmountTolerance, o.CompanyCurrency, o.StoreCreditDocument);
        if (plan.Mismatch is { } why)
        {
            await context.RaiseAsync(ExceptionCategory.AmountMismatch, why, Name, cancellationToken, detailKey: "amounts").ConfigureAwait(false);
            return;
        }

        if (plan.Postings.Count == 0)
        {
            return;
        }

        int? party = context.OriginalSale?.PartyId;
        if (party is null && context.OriginalSaleId is int saleId)
        {
            party = (await fulfil.GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false)).PartyId;
        }

        var stored = new List<PostingRecord>(plan.Postings.Count);
        foreach (PlannedPosting p in plan.Postings)
        {
            PlannedPosting planned = await KeepStoreCreditDocumentAsync(p, cancellationToken).ConfigureAwait(false);
            (PostingRecord record, bool added) = await postings.AddAsync(new PostingRecord
            {
                ReturnId = planned.ReturnId,
                Kind = planned.Kind,
                Reference = planned.Reference,
                Currency = planned.Currency,
                Amount = planned.Amount,
                Status = PostingStatus.Pending,
                PartyId = party,
                ReturnOrderId = context.ReturnOrderId,
                CreatedAt = time.GetUtcNow(),
            }, cancellationToken).ConfigureAwait(false);
            if (!added && (record.Amount != planned.Amount || !string.Equals(record.Currency, planned.Currency, StringComparison.Ordinal)))
            {
                await context.RaiseAsync(
                    ExceptionCategory.AmountMismatch,
                    $"Return {context.ReturnId}: {planned.Reference} was worked out as {record.Amount.ToString(CultureInfo.InvariantCulture)} {record.Currency} ({record.Status}) but Loop now says {planned.Amount.ToString(CultureInfo.InvariantCulture)} {planned.Currency}.",
                    Name,
                    cancellationToken,
                    detailKey: "changed:" + planned.Kind).ConfigureAwait(false);
                return;
            }

            stored.Add(record);
            LogPlanned(logger, context.ReturnId, planned.Reference, planned.Amount, planned.Currency, added);
        }

        if (o.PostingMode == PostingMode.Scheduled)
        {
            return;
        }

        foreach (PostingRecord record in stored.Where(r => r.Status == PostingStatus.Pending))
        {
            string? number = await poster.PostAsync(record, cancellationToken).ConfigureAwait(false);
            LogPosted(logger, context.ReturnId, record.Reference, number);
        }
    }

    /// <summary>
    /// Store credit planned earlier as the other document (the setting changed since) stays that document: a second
    /// kind would issue the customer's store credit twice.
    /// </summary>
    private async Task<PlannedPosting> KeepStoreCreditDocumentAsync(PlannedPosting planned, CancellationToken cancellationToken)
    {
        string? other = planned.Kind switch
        {
            PostingKinds.StoreCredit => PostingKinds.GiftCard,
            PostingKinds.GiftCard => PostingKinds.StoreCredit,
            _ => null,
        };
        if (other is null || await postings.GetAsync(planned.ReturnId, other, cancellationToken).ConfigureAwait(false) is null)
        {
            return planned;
        }

        return planned with { Kind = other, Reference = PostingKinds.Reference(planned.ReturnId, other) };
    }

    [LoggerMessage(EventId = 4631, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} {Amount} {Currency} planned (new: {Added})")]
    private static partial void LogPlanned(ILogger logger, string returnId, string reference, decimal amount, string currency, bool added);

    [LoggerMessage(EventId = 4632, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} posted as {Number}")]
    private static partial void LogPosted(ILogger logger, string returnId, string reference, string? number);
}
