using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Refunds;

/// <summary>
/// Refund accounting for a closed return (<c>return.closed</c>, or any later event such as <c>giftcard.requested</c>
/// once the stored snapshot is closed), per docs/accounting.md: one posted credit note for every returned unit (with
/// the handling-fee line), the refund payment, the store credit and its bonus against the receivable, and the upsell
/// journal — each once. Figures that
/// do not reconcile raise AmountMismatch (finance) and nothing is posted: postings already planned are marked
/// <see cref="PostingStatus.Blocked"/> behind the record, and planned again from Loop's figures once it is resolved or
/// replayed. In Scheduled mode the documents are only stored as pending postings for <see cref="ScheduledPostingJob"/>.
/// </summary>
public sealed partial class RefundsStage : IReturnStage
{
    private readonly IFulfilClient _fulfil;
    private readonly PostingStore _postings;
    private readonly RefundPoster _poster;
    private readonly IOptionsMonitor<RefundsOptions> _options;
    private readonly ExceptionService _exceptions;
    private readonly TimeProvider _time;
    private readonly ILogger<RefundsStage> _logger;

    public RefundsStage(IFulfilClient fulfil, PostingStore postings, RefundPoster poster, IOptionsMonitor<RefundsOptions> options, ExceptionService exceptions, TimeProvider time, ILogger<RefundsStage> logger)
    {
        _exceptions = exceptions;
        _fulfil = fulfil;
        _postings = postings;
        _poster = poster;
        _options = options;
        _time = time;
        _logger = logger;
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

        var o = _options.CurrentValue;
        var giftCard = await GiftCardEventAsync(context, cancellationToken).ConfigureAwait(false);
        var plan = RefundPlan.For(context.Return, o.AmountTolerance, o.CompanyCurrency, o.StoreCreditDocument, giftCard, context.References);
        if (plan.Mismatch is { } why)
        {
            var mismatch = await context.RaiseAsync(ExceptionCategory.AmountMismatch, why, Name, cancellationToken, detailKey: "amounts").ConfigureAwait(false);
            // Documents planned from earlier figures wait for finance too.
            foreach (var earlier in await _postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false))
            {
                await BlockAsync(earlier.ReturnId, earlier.Kind, mismatch, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (plan.Postings.Count == 0)
        {
            return;
        }

        var party = context.OriginalSale?.PartyId;
        if (party is null && context.OriginalSaleId is int saleId)
        {
            party = (await _fulfil.GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false)).PartyId;
        }

        var stored = new List<PostingRecord>(plan.Postings.Count);
        var heldForFinance = false;
        foreach (var planned in plan.Postings)
        {
            if (await PlannedAsJournalAsync(planned, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            (var record, var added) = await _postings.AddAsync(new PostingRecord
            {
                ReturnId = planned.ReturnId,
                Kind = planned.Kind,
                Reference = planned.Reference,
                Currency = planned.Currency,
                Amount = planned.Amount,
                Tax = planned.Tax,
                HandlingFee = planned.HandlingFee,
                Status = PostingStatus.Pending,
                PartyId = party,
                ReturnOrderId = context.ReturnOrderId,
                CreatedAt = _time.GetUtcNow(),
            }, cancellationToken).ConfigureAwait(false);
            var changed = record.Amount != planned.Amount || !string.Equals(record.Currency, planned.Currency, StringComparison.Ordinal);
            if (!added && record.Status == PostingStatus.Blocked)
            {
                if (!await IsLiftedAsync(record, context, cancellationToken).ConfigureAwait(false))
                {
                    // Still waiting for finance; the record keeps saying why (refreshed when Loop's figure moved again).
                    LogStillBlocked(_logger, context.ReturnId, record.Reference, record.BlockedBy);
                    if (changed)
                    {
                        await RaiseChangedAsync(context, record, planned, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                // Resolved or replayed: Loop's figures now are what finance let through.
                record = await _postings.UnblockAsync(record.ReturnId, record.Kind, planned.Amount, planned.Currency, cancellationToken, planned.Tax, planned.HandlingFee).ConfigureAwait(false) ?? record;
                LogUnblocked(_logger, context.ReturnId, record.Reference, planned.Amount, planned.Currency);
            }
            else if (!added && changed && record.Status == PostingStatus.Posted)
            {
                if (!await PostedFigureReleasedAsync(context, record, planned, cancellationToken).ConfigureAwait(false))
                {
                    // Each posted document whose figure moved gets its own record in this pass; nothing new is posted.
                    heldForFinance = true;
                    continue;
                }
            }
            else if (!added && changed)
            {
                var raised = await RaiseChangedAsync(context, record, planned, cancellationToken).ConfigureAwait(false);
                // The return's documents settle one another (docs/accounting.md): none is posted from stale figures.
                foreach (var other in await _postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false))
                {
                    if (other.Status == PostingStatus.Pending || other.Kind == record.Kind)
                    {
                        await BlockAsync(other.ReturnId, other.Kind, raised, cancellationToken).ConfigureAwait(false);
                    }
                }

                return;
            }

            stored.Add(record);
            LogPlanned(_logger, context.ReturnId, planned.Reference, planned.Amount, planned.Currency, added);
        }

        if (heldForFinance)
        {
            return;
        }

        foreach (var extra in await _postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false))
        {
            // A posting the poster added (the fee of a credit note the ERP posted without it) is posted like the plan's.
            if (extra.Status == PostingStatus.Pending && !stored.Any(r => r.Kind == extra.Kind))
            {
                stored.Add(extra);
            }
        }

        if (o.PostingMode == PostingMode.Scheduled)
        {
            return;
        }

        foreach (var record in stored.Where(r => r.Status == PostingStatus.Pending))
        {
            PostingOutcome outcome;
            try
            {
                outcome = await _poster.PostAsync(record, cancellationToken).ConfigureAwait(false);
            }
            catch (ReturnStageException ex) when (ex.Category == ExceptionCategory.AmountMismatch)
            {
                // Fulfil's document disagrees with Loop: nothing more is posted for it until finance resolves the record.
                var raised = await context.RaiseAsync(ex.Category, ex.Message, Name, cancellationToken, detailKey: ex.DetailKey).ConfigureAwait(false);
                await BlockAsync(record.ReturnId, record.Kind, raised, cancellationToken).ConfigureAwait(false);
                // Read again: the poster may have stored a posting in this pass (the FEE of an ERP-posted credit note).
                foreach (var waiting in (await _postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false)).Where(r => r.Status == PostingStatus.Pending && r.Kind != record.Kind))
                {
                    // They settle the disputed document: held with it.
                    await BlockAsync(waiting.ReturnId, waiting.Kind, raised, cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            LogPosted(_logger, context.ReturnId, record.Reference, outcome.Number);
        }
    }

    /// <summary>
    /// The return's <c>giftcard.requested</c> (this delivery's, else the latest recorded): it carries the credit issued
    /// and the bonus (docs/accounting.md row 5). Null when none arrived (Shopify gift cards send none).
    /// </summary>
    private static async Task<LoopGiftCardEvent?> GiftCardEventAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        if (context.Event.Trigger == ReturnTriggers.GiftCardRequested && !context.Event.IsStale)
        {
            return context.Event.Read<LoopGiftCardEvent>();
        }

        var recorded = await context.Ledger.GetEventsAsync(context.ReturnId, ReturnTriggers.GiftCardRequested, cancellationToken).ConfigureAwait(false);
        return recorded.Count == 0 ? null : LoopJson.Deserialize<LoopGiftCardEvent>(recorded[^1].Body);
    }

    /// <summary>
    /// Loop's figure for a document already posted moved. LoopFulfil never changes or re-posts a posted document (its
    /// reference is taken, and Fulfil keeps posted documents read-only), so a release cannot post the new figure: the
    /// record says so and what finance books by hand. Once finance has resolved or replayed the record for this very
    /// figure, it is acknowledged (true: the posted document stands, nothing is raised again); until then false.
    /// </summary>
    private async Task<bool> PostedFigureReleasedAsync(ReturnContext context, PostingRecord record, PlannedPosting planned, CancellationToken cancellationToken)
    {
        var key = $"posted-changed:{planned.Kind}:{planned.Amount.ToString(CultureInfo.InvariantCulture)}";
        var id = ExceptionService.IdFor(ExceptionCategory.AmountMismatch, context.ReturnId, key);
        var earlier = await _exceptions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (string.Equals(context.Event.ReplayOf, id, StringComparison.Ordinal) || earlier is { Status: not ExceptionStatus.Open })
        {
            LogPostedFigureAcknowledged(_logger, context.ReturnId, record.Reference, planned.Amount);
            return true;
        }

        var difference = planned.Amount - record.Amount;
        await context.RaiseAsync(
            ExceptionCategory.AmountMismatch,
            $"Return {context.ReturnId}: {record.Reference} was posted as {record.DocumentNumber ?? record.DocumentId} for {record.Amount.ToString(CultureInfo.InvariantCulture)} {record.Currency}, but Loop now says {planned.Amount.ToString(CultureInfo.InvariantCulture)} {planned.Currency}. LoopFulfil does not change or re-post a posted document, so releasing this record will not post Loop's new figure: book the difference of {difference.ToString(CultureInfo.InvariantCulture)} {planned.Currency} in Fulfil by hand (or reverse {record.Reference}), then resolve this record; it is not raised again for this figure.",
            Name,
            cancellationToken,
            detailKey: key).ConfigureAwait(false);
        return false;
    }

    private Task<ExceptionRecord> RaiseChangedAsync(ReturnContext context, PostingRecord record, PlannedPosting planned, CancellationToken cancellationToken) =>
        context.RaiseAsync(
            ExceptionCategory.AmountMismatch,
            $"Return {context.ReturnId}: {planned.Reference} was worked out as {record.Amount.ToString(CultureInfo.InvariantCulture)} {record.Currency} ({record.Status}) but Loop now says {planned.Amount.ToString(CultureInfo.InvariantCulture)} {planned.Currency}. Resolve or replay this record to post Loop's figure.",
            Name,
            cancellationToken,
            detailKey: "changed:" + planned.Kind);

    private async Task BlockAsync(string returnId, string kind, ExceptionRecord by, CancellationToken cancellationToken)
    {
        if (await _postings.MarkBlockedAsync(returnId, kind, by.Id, by.Message, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            LogBlocked(_logger, returnId, kind, by.Id);
        }
    }

    /// <summary>
    /// The block ends when its record is no longer open (a person resolved it, or replayed it) — or when this very
    /// message is the replay of it (the record is marked replayed only after the message was sent).
    /// </summary>
    private async Task<bool> IsLiftedAsync(PostingRecord record, ReturnContext context, CancellationToken cancellationToken)
    {
        if (record.BlockedBy is not { } id || string.Equals(context.Event.ReplayOf, id, StringComparison.Ordinal))
        {
            return true;
        }

        var blocking = await _exceptions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return blocking is null || blocking.Status != ExceptionStatus.Open;
    }

    /// <summary>
    /// A gift card for a return whose store credit was planned as a journal alone (the setting changed since): Loop's
    /// own card is the customer's, so a Fulfil card would issue the store credit twice.
    /// </summary>
    private async Task<bool> PlannedAsJournalAsync(PlannedPosting planned, CancellationToken cancellationToken) =>
        planned.Kind == LoopReferences.GiftCard
        && await _postings.GetAsync(planned.ReturnId, LoopReferences.GiftCard, cancellationToken).ConfigureAwait(false) is null
        && await _postings.GetAsync(planned.ReturnId, LoopReferences.StoreCredit, cancellationToken).ConfigureAwait(false) is not null;

    [LoggerMessage(EventId = 4631, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} {Amount} {Currency} planned (new: {Added})")]
    private static partial void LogPlanned(ILogger logger, string returnId, string reference, decimal amount, string currency, bool added);

    [LoggerMessage(EventId = 4632, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} posted as {Number}")]
    private static partial void LogPosted(ILogger logger, string returnId, string reference, string? number);

    [LoggerMessage(EventId = 4633, Level = LogLevel.Warning, Message = "Return {ReturnId}: posting {Kind} blocked by exception {ExceptionId} until it is resolved")]
    private static partial void LogBlocked(ILogger logger, string returnId, string kind, string exceptionId);

    [LoggerMessage(EventId = 4634, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} stays blocked by exception {ExceptionId}")]
    private static partial void LogStillBlocked(ILogger logger, string returnId, string reference, string? exceptionId);

    [LoggerMessage(EventId = 4636, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} stays as posted; finance acknowledged Loop's later figure {Amount}")]
    private static partial void LogPostedFigureAcknowledged(ILogger logger, string returnId, string reference, decimal amount);

    [LoggerMessage(EventId = 4635, Level = LogLevel.Information, Message = "Return {ReturnId}: {Reference} unblocked and planned again as {Amount} {Currency}")]
    private static partial void LogUnblocked(ILogger logger, string returnId, string reference, decimal amount, string currency);
}
