using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Outcomes;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Decides, before the stages run, whether Loop executed the return's outcomes: <c>closed</c> means "processed or
/// closed manually" in Loop, and Close Return fulfils nothing (docs/accounting.md row 12). Also turns
/// <c>return.processing.failed</c> into a CX exception. Evidence, cheapest first, each marked as the reference notes
/// mark it: an earlier verdict in the ledger; finance confirming (a replay, or the record no longer open); the
/// payload (<c>refunds[]</c> present, an exchange order other than the original, a gift-card order: inferred);
/// LoopFulfil's own Process call answered by <c>return.closed</c> with no failure since (confirmed);
/// <c>giftcard.requested</c> or <c>restock.requested</c> received (confirmed: sent on processing); money or an exchange
/// already acted on (returns handled before this check existed); finally Loop's
/// Get Return Details (<see cref="ReturnsOptions.ConfirmProcessedWithLoop"/>, fields
/// <see cref="ReturnsOptions.ProcessedDetailFields"/>). None: a finance exception, and no money or exchange.
/// </summary>
public sealed partial class ProcessingGate
{
    private const string Source = ExceptionAlertHandler.InlineFlaggingSourcePrefix + ":processing";
    private const string ClosedKey = "closed";
    private const string FailedKey = "processing";

    private readonly ILoopClient _loop;
    private readonly ExceptionService _exceptions;
    private readonly ILogger<ProcessingGate> _logger;

    public ProcessingGate(ILoopClient loop, ExceptionService exceptions, ILogger<ProcessingGate> logger)
    {
        _loop = loop;
        _exceptions = exceptions;
        _logger = logger;
    }

    /// <summary>Settles <see cref="ReturnContext.IsProcessed"/>; raises the exception records that belong to it.</summary>
    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Event.Trigger == ReturnTriggers.ReturnProcessingFailed)
        {
            await OnProcessingFailedAsync(context, cancellationToken).ConfigureAwait(false);
        }

        if (context.State != ReturnStates.Closed)
        {
            context.IsProcessed = false;
            return;
        }

        var evidence = await EvidenceAsync(context, cancellationToken).ConfigureAwait(false);
        if (evidence is null && await IsConfirmedNothingToPostAsync(context.ReturnId, cancellationToken).ConfigureAwait(false))
        {
            // Finance confirmed it: the record stays resolved, nothing posts, and the question is not asked again.
            context.IsProcessed = false;
            LogConfirmedNothingToPost(_logger, context.ReturnId);
            return;
        }

        if (evidence is null)
        {
            context.IsProcessed = false;
            LogClosedWithoutProcessing(_logger, context.ReturnId);
            await context.ReportAsync(
                ExceptionCategory.ClosedWithoutProcessing,
                $"Return {context.ReturnId} is closed in Loop with no sign that its outcomes ran (no refunds, no exchange order, no gift card or restock event, and Loop's return details do not say processed): closed without processing — confirm. Nothing was posted and no exchange shipped. If the outcomes did run, resolve or replay this record and the money posts once; Loop's processed signal does the same.",
                Source,
                cancellationToken,
                detailKey: ClosedKey).ConfigureAwait(false);
            return;
        }

        context.IsProcessed = true;
        var step = await context.Ledger.EnsureStepAsync(context.ReturnId, ReturnSteps.LoopProcessed, _ => Task.FromResult(evidence), cancellationToken).ConfigureAwait(false);
        if (step.Created)
        {
            LogProcessed(_logger, context.ReturnId, evidence);
            // The question each record asked is answered: the return was processed.
            await _exceptions.ResolveIfOpenAsync(ExceptionCategory.ClosedWithoutProcessing, context.ReturnId, ClosedKey, "Processed: " + evidence, cancellationToken).ConfigureAwait(false);
            await _exceptions.ResolveIfOpenAsync(ExceptionCategory.LoopProcessingFailed, context.ReturnId, FailedKey, "Processed: " + evidence, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first sign that Loop executed the outcomes, or null when there is none.</summary>
    private async Task<string?> EvidenceAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        var returnId = context.ReturnId;
        var verdict = await context.Ledger.GetStepAsync(returnId, ReturnSteps.LoopProcessed, cancellationToken).ConfigureAwait(false);
        if (verdict is { Status: StepStatus.Done })
        {
            return verdict.DocumentId ?? "recorded";
        }

        var recordId = ClosedRecordId(returnId);
        if (string.Equals(context.Event.ReplayOf, recordId, StringComparison.Ordinal))
        {
            return "confirmed by finance (replay of " + recordId + ")";
        }

        if (PayloadEvidence(context.Return) is { } fromPayload)
        {
            return fromPayload;
        }

        if (await context.Ledger.IsDoneAsync(returnId, OutcomeSteps.LoopProcess, cancellationToken).ConfigureAwait(false)
            && !await context.Ledger.IsDoneAsync(returnId, ReturnSteps.LoopProcessingFailed, cancellationToken).ConfigureAwait(false))
        {
            return "closed after LoopFulfil's Process Return";
        }

        foreach (var trigger in (string[])[ReturnTriggers.GiftCardRequested, ReturnTriggers.RestockRequested])
        {
            if (context.Event.Trigger == trigger || (await context.Ledger.GetEventsAsync(returnId, trigger, cancellationToken).ConfigureAwait(false)).Count > 0)
            {
                return trigger + " received";
            }
        }

        // A return whose money or exchange was already acted on was judged processed before this check existed.
        if ((await context.Ledger.GetStepsAsync(returnId, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => s.Status == StepStatus.Done && (s.Step.StartsWith(OutcomeSteps.Posting(string.Empty), StringComparison.Ordinal) || s.Step.StartsWith(OutcomeSteps.ExchangeEnqueued(string.Empty), StringComparison.Ordinal))) is { } earlier)
        {
            return "acted on earlier (" + earlier.Step + ")";
        }

        var record = await _exceptions.GetAsync(recordId, cancellationToken).ConfigureAwait(false);
        if (record is { Status: not ExceptionStatus.Open } && !IsNothingToPost(record))
        {
            return $"confirmed by finance ({record.Status.ToString().ToLowerInvariant()} {recordId})";
        }

        return context.Options.ConfirmProcessedWithLoop ? await AskLoopAsync(context, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>The id of the return's ClosedWithoutProcessing record (reconciliation reads it too).</summary>
    public static string ClosedRecordId(string returnId) => ExceptionService.IdFor(ExceptionCategory.ClosedWithoutProcessing, returnId, ClosedKey);

    /// <summary>Finance resolved the record as "closed without processing, nothing to post".</summary>
    public static bool IsNothingToPost(ExceptionRecord record) =>
        record is { Status: ExceptionStatus.Resolved, Resolution: ExceptionResolution.NothingToPost };

    private async Task<bool> IsConfirmedNothingToPostAsync(string returnId, CancellationToken cancellationToken) =>
        await _exceptions.GetAsync(ClosedRecordId(returnId), cancellationToken).ConfigureAwait(false) is { } record && IsNothingToPost(record);

    /// <summary>Get Return Details: the fetched return's own signs, and the configured fields. Null when Loop cannot tell.</summary>
    private async Task<string?> AskLoopAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        LoopReturn details;
        try
        {
            details = await _loop.GetReturnAsync(context.ReturnId, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            // Not found, or the key is refused: Loop cannot tell, so finance decides (transient errors still redeliver).
            LogLoopCannotTell(_logger, ex, context.ReturnId);
            return null;
        }

        if (PayloadEvidence(details) is { } fromDetails)
        {
            return "Loop return details: " + fromDetails;
        }

        foreach (var field in context.Options.ProcessedDetailFields)
        {
            if (details.AdditionalFields is { } extra && extra.TryGetValue(field, out var value) && IsSet(value))
            {
                return $"Loop return details: {field}";
            }
        }

        return null;
    }

    /// <summary>Signs in a return payload that Loop executed its outcomes (inferred from samples; see the class remarks).</summary>
    internal static string? PayloadEvidence(LoopReturn r)
    {
        if (r.Refunds.Count > 0)
        {
            return "refunds[] present";
        }

        // Items added to the original order carry the original order's id from the start: only a new order is a sign.
        if (r.Exchanges.FirstOrDefault(e => !string.IsNullOrWhiteSpace(e.ExchangeOrderId) && !string.Equals(e.ExchangeOrderId, r.ProviderOrderId, StringComparison.Ordinal)) is { } exchange)
        {
            return "exchange order " + exchange.ExchangeOrderId + " created";
        }

        return string.IsNullOrWhiteSpace(r.GiftCardOrderId) && string.IsNullOrWhiteSpace(r.GiftCardOrderName) ? null : "gift-card order created";
    }

    private static bool IsSet(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.String => value.GetString() is { Length: > 0 } s && s is not ("false" or "0"),
        JsonValueKind.Number => value.TryGetDecimal(out var d) && d != 0m,
        _ => false,
    };

    /// <summary>
    /// A background failure of Process Return: a CX exception with Loop's reason, once per failure, and LoopFulfil's
    /// own Process call no longer counts as processing. Replaying the record clears both, so the restock stage asks
    /// Loop to process again in the same pass (an inspection that passed is still required).
    /// </summary>
    private async Task OnProcessingFailedAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        var returnId = context.ReturnId;
        var recordId = ExceptionService.IdFor(ExceptionCategory.LoopProcessingFailed, returnId, FailedKey);
        if (string.Equals(context.Event.ReplayOf, recordId, StringComparison.Ordinal))
        {
            await context.Ledger.ReopenStepAsync(returnId, ReturnSteps.LoopProcessingFailed, cancellationToken).ConfigureAwait(false);
            await context.Ledger.ReopenStepAsync(returnId, OutcomeSteps.LoopProcess, cancellationToken).ConfigureAwait(false);
            LogRetry(_logger, returnId);
            return;
        }

        if (context.State is ReturnStates.Closed or ReturnStates.Cancelled or ReturnStates.Expired)
        {
            // Loop moved on since (processed on a retry, or closed or cancelled by hand): the failure no longer stands.
            LogFailureOutdated(_logger, returnId, context.State);
            return;
        }

        var failure = context.Event.Read<LoopReturnProcessingFailed>();
        var reason = string.IsNullOrWhiteSpace(failure.Message) ? "(Loop gave no reason)" : failure.Message.Trim();
        var source = string.IsNullOrWhiteSpace(failure.Source) ? "unknown" : failure.Source.Trim();
        await context.Ledger.EnsureStepAsync(returnId, ReturnSteps.LoopProcessingFailed, async ct =>
        {
            var record = await context.ReportAsync(
                ExceptionCategory.LoopProcessingFailed,
                $"Loop could not process return {returnId} (requested by {source}; return {failure.ReturnState ?? context.State}): {reason}. The return stays open and no outcome ran. Fix it in Loop, then replay this record to ask Loop to process it again.",
                Source,
                ct,
                detailKey: FailedKey).ConfigureAwait(false);
            return record.Id;
        }, cancellationToken).ConfigureAwait(false);

        // Loop was asked (by LoopFulfil or someone else): it is not asked again until the record is replayed.
        await context.Ledger.EnsureStepAsync(returnId, OutcomeSteps.LoopProcess, _ => Task.FromResult("failed:" + source), cancellationToken).ConfigureAwait(false);
        LogProcessingFailed(_logger, returnId, source);
    }

    [LoggerMessage(EventId = 4431, Level = LogLevel.Information, Message = "Return {ReturnId}: processed in Loop ({Evidence})")]
    private static partial void LogProcessed(ILogger logger, string returnId, string evidence);

    [LoggerMessage(EventId = 4432, Level = LogLevel.Warning, Message = "Return {ReturnId}: closed in Loop with no sign of processing; nothing posted, no exchange, finance asked to confirm")]
    private static partial void LogClosedWithoutProcessing(ILogger logger, string returnId);

    [LoggerMessage(EventId = 4437, Level = LogLevel.Information, Message = "Return {ReturnId}: closed without processing, confirmed by finance; nothing posted")]
    private static partial void LogConfirmedNothingToPost(ILogger logger, string returnId);

    [LoggerMessage(EventId = 4433, Level = LogLevel.Warning, Message = "Return {ReturnId}: Loop's return details could not be read to confirm processing")]
    private static partial void LogLoopCannotTell(ILogger logger, Exception exception, string returnId);

    [LoggerMessage(EventId = 4434, Level = LogLevel.Warning, Message = "Return {ReturnId}: Loop processing failed in the background (requested by {Source}); CX exception raised, the return stays open")]
    private static partial void LogProcessingFailed(ILogger logger, string returnId, string source);

    [LoggerMessage(EventId = 4435, Level = LogLevel.Information, Message = "Return {ReturnId}: processing failure replayed; Loop is asked to process again")]
    private static partial void LogRetry(ILogger logger, string returnId);

    [LoggerMessage(EventId = 4436, Level = LogLevel.Information, Message = "Return {ReturnId}: processing failure arrived after the return became {State}; nothing raised")]
    private static partial void LogFailureOutdated(ILogger logger, string returnId, string state);
}
