using System.Globalization;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.WriteBack;

/// <summary>
/// Write-back: once a closed return's documents all exist in Fulfil (every posting posted, every exchange order
/// created), one note on the Loop return lists their numbers (<c>WriteBack:Note</c>); once its refund credit note is
/// posted, the refund is recorded on the Loop order (<c>WriteBack:OrderRefunds</c>). Scheduled postings and exchange
/// orders enqueue the return again when they complete, so both follow them.
/// </summary>
public sealed partial class WriteBackStage : IReturnStage
{
    private const int MaxNoteChars = 254;
    private readonly IFulfilClient fulfil;
    private readonly ILoopClient loop;
    private readonly PostingStore postings;
    private readonly IOptionsMonitor<WriteBackOptions> options;
    private readonly ILogger<WriteBackStage> logger;

    private readonly ILoopOrderPusher? orders;

    /// <param name="orders">Commerce sync, when the host registers it (it pushes orders to Loop); order refunds need it.</param>
    public WriteBackStage(IFulfilClient fulfil, ILoopClient loop, PostingStore postings, IOptionsMonitor<WriteBackOptions> options, ILogger<WriteBackStage> logger, ILoopOrderPusher? orders = null)
    {
        this.orders = orders;
        this.fulfil = fulfil;
        this.loop = loop;
        this.postings = postings;
        this.options = options;
        this.logger = logger;
    }

    public int Order => ReturnStageOrder.WriteBack;

    public string Name => "write-back";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.State != ReturnStates.Closed)
        {
            return;
        }

        WriteBackOptions o = options.CurrentValue;
        if (o.Note)
        {
            await NoteAsync(context, cancellationToken).ConfigureAwait(false);
        }

        if (o.OrderRefunds)
        {
            await OrderRefundAsync(context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How the write-back note of a return with a return order starts, whatever follows.</summary>
    internal const string NoteKey = "LoopFulfil: return order ";

    private async Task NoteAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        if (await context.Ledger.IsDoneAsync(context.ReturnId, OutcomeSteps.WriteBackNote, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        IReadOnlyList<PostingRecord> documents = await postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false);
        if (documents.Any(d => d.Status != PostingStatus.Posted))
        {
            LogWaiting(logger, context.ReturnId, "postings");
            return;
        }

        var parts = new List<string>();
        if (context.ReturnOrderId is int returnOrderId)
        {
            FulfilSale order = context.ReturnOrder ?? await fulfil.GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
            parts.Add($"return order {order.Number ?? order.Reference}");
        }

        foreach (PostingRecord d in documents.OrderBy(d => d.Kind, StringComparer.Ordinal))
        {
            parts.Add($"{d.Reference} {d.DocumentNumber ?? d.DocumentId} ({d.Amount.ToString("0.00##", CultureInfo.InvariantCulture)} {d.Currency})");
        }

        foreach (string key in ExchangeGroups.Of(context.Return).Keys)
        {
            StepRecord? step = await context.Ledger.GetStepAsync(context.ReturnId, OutcomeSteps.ExchangeOrder(key), cancellationToken).ConfigureAwait(false);
            if (step is not { Status: StepStatus.Done } || !int.TryParse(step.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out int saleId))
            {
                LogWaiting(logger, context.ReturnId, "exchange " + key);
                return;
            }

            FulfilSale sale = await fulfil.GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
            parts.Add($"exchange order {sale.Number ?? sale.Reference}");
        }

        string note = "LoopFulfil: " + string.Join("; ", parts);
        note = note.Length <= MaxNoteChars ? note : note[..(MaxNoteChars - 1)] + "…";
        // The text names what exists when it is written, so a repeat after an unclear outcome (committed, then 503)
        // may word it differently: the note is looked up by its fixed start, one write-back note per return.
        string noteKey = context.ReturnOrderId is int ? NoteKey : note;
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.WriteBackNote, async ct =>
        {
            await loop.AddReturnNoteOnceAsync(context.ReturnId, noteKey, note, ct).ConfigureAwait(false);
            return "noted";
        }, cancellationToken).ConfigureAwait(false);
        LogNoted(logger, context.ReturnId, parts.Count);
    }

    /// <summary>
    /// Once per return: the posted refund credit note becomes a refund on the Loop order. Commerce sync pushes the
    /// order (its refunds valued from posted credit notes, see <see cref="PostedCreditNoteRefunds"/>), so the timed
    /// runs keep the same body instead of overwriting it. A Loop refusal is the commerce push's own problem: it raises
    /// CommerceRecordNotSent for ecommerce and sends the order (refund included) once the record is fixed; the credit
    /// note stands, and this step does not raise the same problem a second time.
    /// </summary>
    private async Task OrderRefundAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        if (orders is null || context.OriginalSaleId is not int saleId
            || await context.Ledger.IsDoneAsync(context.ReturnId, OutcomeSteps.WriteBackOrderRefund, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        PostingRecord? creditNote = await postings.GetAsync(context.ReturnId, LoopReferences.CreditNote, cancellationToken).ConfigureAwait(false);
        if (creditNote is not { Status: PostingStatus.Posted })
        {
            // No cash refund, or not posted yet (scheduled postings enqueue the return again once posted).
            return;
        }

        string sale = saleId.ToString(CultureInfo.InvariantCulture);
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.WriteBackOrderRefund, async ct =>
        {
            CommerceOrderPush push = await orders.PushOrderAsync(saleId, ct).ConfigureAwait(false);
            LogOrderRefund(logger, context.ReturnId, creditNote.Reference, sale, push.Outcome);
            return push.Outcome switch
            {
                CommerceOrderPushOutcome.Failed => throw new TransientIntegrationException($"Loop order {sale}: recording refund {creditNote.Reference} failed transiently: {push.Reason}"),
                _ => sale,
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4673, Level = LogLevel.Information, Message = "Return {ReturnId}: refund {Reference} on Loop order of sale {SaleId}: {Outcome}")]
    private static partial void LogOrderRefund(ILogger logger, string returnId, string reference, string saleId, CommerceOrderPushOutcome outcome);

    [LoggerMessage(EventId = 4671, Level = LogLevel.Information, Message = "Return {ReturnId}: write-back note waits for {What}")]
    private static partial void LogWaiting(ILogger logger, string returnId, string what);

    [LoggerMessage(EventId = 4672, Level = LogLevel.Information, Message = "Return {ReturnId}: note with {Documents} Fulfil documents added in Loop")]
    private static partial void LogNoted(ILogger logger, string returnId, int documents);
}
