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
    private readonly IFulfilClient _fulfil;
    private readonly ILoopClient _loop;
    private readonly PostingStore _postings;
    private readonly IOptionsMonitor<WriteBackOptions> _options;
    private readonly ILogger<WriteBackStage> _logger;

    private readonly ILoopOrderPusher? _orders;

    /// <param name="orders">Commerce sync, when the host registers it (it pushes orders to Loop); order refunds need it.</param>
    public WriteBackStage(IFulfilClient fulfil, ILoopClient loop, PostingStore postings, IOptionsMonitor<WriteBackOptions> options, ILogger<WriteBackStage> logger, ILoopOrderPusher? orders = null)
    {
        _orders = orders;
        _fulfil = fulfil;
        _loop = loop;
        _postings = postings;
        _options = options;
        _logger = logger;
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

        var o = _options.CurrentValue;
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

        var documents = await _postings.ForReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false);
        if (documents.Any(d => d.Status != PostingStatus.Posted))
        {
            LogWaiting(_logger, context.ReturnId, "postings");
            return;
        }

        var parts = new List<string>();
        if (context.ReturnOrderId is int returnOrderId)
        {
            var order = context.ReturnOrder ?? await _fulfil.GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
            parts.Add($"return order {order.Number ?? order.Reference}");
        }

        foreach (var d in documents.OrderBy(d => d.Kind, StringComparer.Ordinal))
        {
            parts.Add($"{d.Reference} {d.DocumentNumber ?? d.DocumentId} ({d.Amount.ToString("0.00##", CultureInfo.InvariantCulture)} {d.Currency})");
        }

        foreach (var key in ExchangeGroups.Of(context.Return).Keys)
        {
            var step = await context.Ledger.GetStepAsync(context.ReturnId, OutcomeSteps.ExchangeOrder(key), cancellationToken).ConfigureAwait(false);
            if (step is not { Status: StepStatus.Done } || !int.TryParse(step.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out var saleId))
            {
                LogWaiting(_logger, context.ReturnId, "exchange " + key);
                return;
            }

            var sale = await _fulfil.GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
            parts.Add($"exchange order {sale.Number ?? sale.Reference}");
        }

        var note = "LoopFulfil: " + string.Join("; ", parts);
        note = note.Length <= MaxNoteChars ? note : note[..(MaxNoteChars - 1)] + "…";
        // The text names what exists when it is written, so a repeat after an unclear outcome (committed, then 503)
        // may word it differently: the note is looked up by its fixed start, one write-back note per return.
        var noteKey = context.ReturnOrderId is int ? NoteKey : note;
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.WriteBackNote, async ct =>
        {
            await _loop.AddReturnNoteOnceAsync(context.ReturnId, noteKey, note, ct).ConfigureAwait(false);
            return "noted";
        }, cancellationToken).ConfigureAwait(false);
        LogNoted(_logger, context.ReturnId, parts.Count);
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
        if (_orders is null || context.OriginalSaleId is not int saleId
            || await context.Ledger.IsDoneAsync(context.ReturnId, OutcomeSteps.WriteBackOrderRefund, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var creditNote = await _postings.GetAsync(context.ReturnId, LoopReferences.CreditNote, cancellationToken).ConfigureAwait(false);
        if (creditNote is not { Status: PostingStatus.Posted })
        {
            // No cash refund, or not posted yet (scheduled postings enqueue the return again once posted).
            return;
        }

        var sale = saleId.ToString(CultureInfo.InvariantCulture);
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.WriteBackOrderRefund, async ct =>
        {
            var push = await _orders.PushOrderAsync(saleId, ct).ConfigureAwait(false);
            LogOrderRefund(_logger, context.ReturnId, creditNote.Reference, sale, push.Outcome);
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
