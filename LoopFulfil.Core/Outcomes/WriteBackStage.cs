using System.Globalization;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Outcomes;

/// <summary>
/// Write-back: once a closed return's documents all exist in Fulfil (every posting posted, every exchange order
/// created), one note on the Loop return lists their numbers. Scheduled postings and exchange orders enqueue the
/// return again when they complete, so the note follows them.
/// </summary>
public sealed partial class WriteBackStage : IReturnStage
{
    private const int MaxNoteChars = 254;
    private readonly IFulfilClient fulfil;
    private readonly ILoopClient loop;
    private readonly PostingStore postings;
    private readonly IOptionsMonitor<WriteBackOptions> options;
    private readonly ILogger<WriteBackStage> logger;

    public WriteBackStage(IFulfilClient fulfil, ILoopClient loop, PostingStore postings, IOptionsMonitor<WriteBackOptions> options, ILogger<WriteBackStage> logger)
    {
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
        if (!options.CurrentValue.Note || context.State != ReturnStates.Closed
            || await context.Ledger.IsDoneAsync(context.ReturnId, OutcomeSteps.WriteBackNote, cancellationToken).ConfigureAwait(false))
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
        await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.WriteBackNote, async ct =>
        {
            await loop.AddReturnNoteAsync(context.ReturnId, note, ct).ConfigureAwait(false);
            return "noted";
        }, cancellationToken).ConfigureAwait(false);
        LogNoted(logger, context.ReturnId, parts.Count);
    }

    [LoggerMessage(EventId = 4671, Level = LogLevel.Information, Message = "Return {ReturnId}: write-back note waits for {What}")]
    private static partial void LogWaiting(ILogger logger, string returnId, string what);

    [LoggerMessage(EventId = 4672, Level = LogLevel.Information, Message = "Return {ReturnId}: note with {Documents} Fulfil documents added in Loop")]
    private static partial void LogNoted(ILogger logger, string returnId, int documents);
}
