using System.Runtime.ExceptionServices;
using System.Text.Json;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// The consumer of the <c>loop-returns</c> queue (Functions: session-enabled Service Bus trigger; local host: the
/// dispatcher). Level-triggered: a message only says "return X changed". The handler settles on the newest known
/// snapshot of the return, settles whether Loop executed its outcomes (<see cref="ProcessingGate"/>) and runs the stage
/// pipeline, which performs only the steps the ledger does not show done. Stage families do not block each other: a
/// permanent problem stops only its own family (<see cref="ReturnStageFamilies"/>).
/// </summary>
/// <remarks>
/// Outcome for the host: returning normally completes the message (including when a permanent problem was turned
/// into an exception record); a thrown <see cref="TransientIntegrationException"/>, <see cref="HttpRequestException"/>
/// or timeout means "abandon and redeliver". Messages of one return must be delivered one at a time (sessions).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It handles return events from the queue; it is not a .NET event delegate, and hosts know it by this name.")]
public sealed partial class ReturnEventHandler
{
    // The alert consumer recognises this prefix and leaves the Loop flag to this handler (ReturnExceptionReporter).
    private const string Source = ExceptionAlertHandler.InlineFlaggingSourcePrefix;

    private readonly ReturnLedger _ledger;
    private readonly IReadOnlyList<IReturnStage> _stages;
    private readonly IReturnExceptionReporter _reporter;
    private readonly ProcessingGate _processing;
    private readonly ILoopClient _loop;
    private readonly IOptionsMonitor<ReturnsOptions> _options;
    private readonly IOptionsMonitor<FulfilOptions> _fulfilOptions;
    private readonly ILogger<ReturnEventHandler> _logger;
    private readonly LoopFulfilMetrics _metrics;

    public ReturnEventHandler(
        ReturnLedger ledger,
        IEnumerable<IReturnStage> stages,
        IReturnExceptionReporter reporter,
        ProcessingGate processing,
        ILoopClient loop,
        IOptionsMonitor<ReturnsOptions> options,
        IOptionsMonitor<FulfilOptions> fulfilOptions,
        ILogger<ReturnEventHandler> logger,
        LoopFulfilMetrics? metrics = null)
    {
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
        _ledger = ledger;
        // Stable sort: stages with equal Order keep their registration order.
        _stages = [.. stages.OrderBy(s => s.Order)];
        _reporter = reporter;
        _processing = processing;
        _loop = loop;
        _options = options;
        _fulfilOptions = fulfilOptions;
        _logger = logger;
    }

    /// <summary>The stages in the order they run (for diagnostics and <c>loopfulfil</c> tooling).</summary>
    public IReadOnlyList<IReturnStage> Stages => _stages;

    /// <summary>
    /// Brings Fulfil in line with the return the message is about. Returns normally when done or when a permanent
    /// problem was recorded as an exception; throws for transient failures so the host redelivers.
    /// </summary>
    public async Task<ReturnHandlingResult> HandleAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ReturnHandlingResult result;
        try
        {
            result = await HandleCoreAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex, cancellationToken))
        {
            _metrics.MessageProcessed(QueueNames.LoopReturns, "Abandoned");
            LogAbandoned(_logger, ex, message.SessionId, message.MessageId, message.DeliveryCount);
            throw;
        }

        _metrics.MessageProcessed(QueueNames.LoopReturns, result.Outcome.ToString());
        var returnId = result.ReturnId ?? message.SessionId ?? "?";
        switch (result.Outcome)
        {
            case ReturnHandlingOutcome.Reconciled:
                LogReconciled(_logger, returnId, message.MessageId, result.State);
                break;
            case ReturnHandlingOutcome.StaleReconciled:
                LogStaleReconciled(_logger, returnId, message.MessageId, result.State);
                break;
            case ReturnHandlingOutcome.RecordedOnly:
                LogRecordedOnly(_logger, returnId, message.MessageId);
                break;
            default:
                LogExceptionRaised(_logger, returnId, message.MessageId, result.Exceptions.Count);
                break;
        }

        return result;
    }

    /// <summary>Failures the host retries by redelivering the message.</summary>
    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) =>
        ex is TransientIntegrationException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private async Task<ReturnHandlingResult> HandleCoreAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        var evt = ReturnEvent.From(message);
        if (evt is null)
        {
            // Ingress never enqueues such a message; one arriving anyway is parked for a person, not retried.
            LogUnroutable(_logger, message.MessageId);
            var parked = await _reporter.ReportAsync(
                new ExceptionRaise(ExceptionCategory.UnparseableEvent, message.SessionId, $"Message {message.MessageId} on {QueueNames.LoopReturns} names no trigger or return id.")
                {
                    RawEvent = message.Body,
                    DetailKey = message.MessageId,
                    Source = Source,
                },
                cancellationToken).ConfigureAwait(false);
            return new ReturnHandlingResult(ReturnHandlingOutcome.ExceptionRaised, message.SessionId, null, [parked]);
        }

        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["ReturnId"] = evt.ReturnId, ["Trigger"] = evt.Trigger, ["MessageId"] = evt.MessageId });
        using var shadowScope = ShadowScope.ForReturn(evt.ReturnId);
        ReturnContext? context = null;
        // A transient wait in one family (e.g. Fulfil's credit note not made yet) lets the other families run
        // first, then redelivers the message (docs/accounting.md, "Stages do not block each other").
        ExceptionDispatchInfo? waiting = null;
        try
        {
            context = await BuildContextAsync(evt, cancellationToken).ConfigureAwait(false);
            if (context is null)
            {
                return new ReturnHandlingResult(ReturnHandlingOutcome.RecordedOnly, evt.ReturnId, null, []);
            }

            await _processing.ApplyAsync(context, cancellationToken).ConfigureAwait(false);
            foreach (var stage in _stages)
            {
                var family = stage.Family;
                if (context.IsBlocked(family))
                {
                    // Its own family (or one it depends on) stopped earlier in this pass; the other families go on.
                    LogStageSkipped(_logger, evt.ReturnId, stage.Name, family, context.StopReason);
                    continue;
                }

                if (ReturnStageFamilies.ActsOnExecutedOutcomes(family) && context.State == ReturnStates.Closed && !context.IsProcessed)
                {
                    // Closed without processing: Loop executed no outcome, so no money, exchange or report of them.
                    continue;
                }

                context.CurrentFamily = family;
                try
                {
                    await RunStageAsync(stage, context, cancellationToken).ConfigureAwait(false);
                }
                catch (ShadowWritePlannedException ex)
                {
                    // Shadow mode recorded the write instead of sending it. What needed its answer (its family, and
                    // every family after an authorisation) stops; the other families go on planning, as they would
                    // run after a transient wait. Exchanges never hand off in shadow (ExchangeStage plans the hand-off).
                    LogShadowStopped(_logger, evt.ReturnId, stage.Name, ex.Write.Model, ex.Write.Method);
                    context.Stop($"{stage.Name} planned {ex.Write.Model}.{ex.Write.Method} in shadow mode");
                }
                catch (Exception ex) when (family != ReturnStageFamily.Authorisation && IsTransient(ex, cancellationToken))
                {
                    // Its family (and what depends on it) waits for the redelivery; the others go on in this pass.
                    LogStageWaiting(_logger, evt.ReturnId, stage.Name, family, ex.Message);
                    context.Stop($"{stage.Name} waits: {ex.Message}");
                    waiting ??= ExceptionDispatchInfo.Capture(ex);
                }
                finally
                {
                    context.CurrentFamily = null;
                }
            }

            waiting?.Throw();
        }
        catch (JsonException ex)
        {
            return await ReportOutsideStagesAsync(evt, context, waiting, ExceptionCategory.UnparseableEvent, $"{evt.Trigger} body for return {evt.ReturnId} does not read as a Loop payload: {ex.Message}", evt.DedupeKey, cancellationToken).ConfigureAwait(false);
        }
        catch (ReturnStageException ex)
        {
            return await ReportOutsideStagesAsync(evt, context, waiting, ex.Category, ex.Message, ex.DetailKey ?? evt.DedupeKey, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            // E.g. Loop refused the API key while fetching a missing snapshot: a person must act, retrying will not help.
            LogPermanent(_logger, ex, evt.ReturnId, "snapshot");
            return await ReportOutsideStagesAsync(evt, context, waiting, ExceptionCategory.FulfilRejected, ex.Message, "snapshot", cancellationToken).ConfigureAwait(false);
        }

        var outcome = context.RaisedExceptions.Count > 0
            ? ReturnHandlingOutcome.ExceptionRaised
            : context.Event.IsStale ? ReturnHandlingOutcome.StaleReconciled : ReturnHandlingOutcome.Reconciled;
        LogHandled(_logger, evt.ReturnId, evt.Trigger, context.State, outcome);
        return new ReturnHandlingResult(outcome, evt.ReturnId, context.State, context.RaisedExceptions);
    }

    private async Task RunStageAsync(IReturnStage stage, ReturnContext context, CancellationToken cancellationToken)
    {
        try
        {
            await stage.ApplyAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (ReturnStageException ex)
        {
            await context.RaiseAsync(ex.Category, ex.Message, $"{Source}:{stage.Name}", cancellationToken, ex.Skus, ex.DetailKey).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            // Fulfil said no (UserError, unknown record, bad credentials): retrying cannot help; its owner can.
            LogPermanent(_logger, ex, context.ReturnId, stage.Name);
            await context.RaiseAsync(ExceptionCategory.FulfilRejected, $"Stage {stage.Name}: {ex.Message}", $"{Source}:{stage.Name}", cancellationToken, detailKey: stage.Name).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Settles the snapshot to act on: the event's own when it is the newest, else the stored newest one (a stale
    /// or non-snapshot event still triggers reconciliation of the stored state). Null: nothing to reconcile yet.
    /// </summary>
    private async Task<ReturnContext?> BuildContextAsync(ReturnEvent evt, CancellationToken cancellationToken)
    {
        LoopReturn? snapshot = null;
        DateTimeOffset snapshotTime = default;
        if (evt.CarriesSnapshot)
        {
            var payload = LoopJson.Deserialize<LoopReturn>(evt.Body.Span);
            // The envelope's time: every time the payload carries (closed_at-style fields the model does not know
            // included), as the ingress read it; none at all: the ledger orders it by Loop's lifecycle alone.
            var eventTime = evt.EventTime;
            var decision = await _ledger.AdvanceSnapshotAsync(evt.ReturnId, eventTime, ReturnStates.Normalise(payload.State), evt.Body, cancellationToken).ConfigureAwait(false);
            if (decision is SnapshotDecision.Applied or SnapshotDecision.Unchanged)
            {
                snapshot = payload;
                snapshotTime = eventTime ?? default;
            }
            else
            {
                LogStale(_logger, evt.ReturnId, evt.Trigger, eventTime);
                evt = evt with { IsStale = true };
            }
        }
        else
        {
            var isNew = await _ledger.RecordEventAsync(evt.ReturnId, evt.Trigger, evt.DedupeKey, evt.EventTime, evt.Body, cancellationToken).ConfigureAwait(false);
            LogEventRecorded(_logger, evt.ReturnId, evt.Trigger, isNew);
        }

        if (snapshot is null)
        {
            var stored = await _ledger.GetSnapshotAsync(evt.ReturnId, cancellationToken).ConfigureAwait(false);
            if (stored is not null && stored.Body.Length > 0)
            {
                snapshot = LoopJson.Deserialize<LoopReturn>(stored.Body);
                snapshotTime = stored.EventTime;
            }
            else
            {
                (snapshot, snapshotTime) = await FetchFromLoopAsync(evt, cancellationToken).ConfigureAwait(false);
                if (snapshot is null)
                {
                    return null;
                }
            }
        }

        return new ReturnContext(evt, snapshot, snapshotTime, _ledger, _fulfilOptions.CurrentValue, _options.CurrentValue, _reporter);
    }

    /// <summary>A label/restock/gift-card event arrived before any return.* event: ask Loop for the return itself.</summary>
    private async Task<(LoopReturn? Snapshot, DateTimeOffset Time)> FetchFromLoopAsync(ReturnEvent evt, CancellationToken cancellationToken)
    {
        if (!_options.CurrentValue.FetchMissingSnapshotFromLoop)
        {
            LogNoSnapshot(_logger, evt.ReturnId, evt.Trigger);
            return (null, default);
        }

        LoopReturn fetched;
        try
        {
            fetched = await _loop.GetReturnAsync(evt.ReturnId, cancellationToken).ConfigureAwait(false);
        }
        catch (LoopNotFoundException)
        {
            // The event is recorded; a return.* event for this id will run the pipeline when (if) it comes.
            LogNoSnapshot(_logger, evt.ReturnId, evt.Trigger);
            return (null, default);
        }

        if (WebhookEnvelope.SnapshotTimeOf(fetched) is not { } time)
        {
            LogNoSnapshot(_logger, evt.ReturnId, evt.Trigger);
            return (null, default);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(fetched, LoopJson.Options);
        var decision = await _ledger.AdvanceSnapshotAsync(evt.ReturnId, time, ReturnStates.Normalise(fetched.State), body, cancellationToken).ConfigureAwait(false);
        if (decision is SnapshotDecision.Applied or SnapshotDecision.Unchanged)
        {
            return (fetched, time);
        }

        // A webhook stored a newer snapshot meanwhile: that one wins.
        var stored = await _ledger.GetSnapshotAsync(evt.ReturnId, cancellationToken).ConfigureAwait(false);
        return stored is null ? (fetched, time) : (LoopJson.Deserialize<LoopReturn>(stored.Body), stored.EventTime);
    }

    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "Return {ReturnId}: {Trigger} is older ({EventTime:o}) than the snapshot applied; reconciling from the stored snapshot")]
    private static partial void LogStale(ILogger logger, string returnId, string trigger, DateTimeOffset? eventTime);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Information, Message = "Return {ReturnId}: {Trigger} recorded for the outcome stages (new: {IsNew})")]
    private static partial void LogEventRecorded(ILogger logger, string returnId, string trigger, bool isNew);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Information, Message = "Return {ReturnId}: no snapshot known yet after {Trigger}; event recorded, nothing to reconcile")]
    private static partial void LogNoSnapshot(ILogger logger, string returnId, string trigger);

    [LoggerMessage(EventId = 4404, Level = LogLevel.Information, Message = "Return {ReturnId}: stage {Stage} skipped, its {Family} work stopped earlier in this pass ({Reason})")]
    private static partial void LogStageSkipped(ILogger logger, string returnId, string stage, ReturnStageFamily family, string? reason);

    [LoggerMessage(EventId = 4408, Level = LogLevel.Information, Message = "Return {ReturnId}: stage {Stage} ({Family}) waits ({Reason}); the other families run, then the message is redelivered")]
    private static partial void LogStageWaiting(ILogger logger, string returnId, string stage, ReturnStageFamily family, string reason);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Information, Message = "Return {ReturnId}: {Trigger} handled in state {State}: {Outcome}")]
    private static partial void LogHandled(ILogger logger, string returnId, string trigger, string state, ReturnHandlingOutcome outcome);

    [LoggerMessage(EventId = 4406, Level = LogLevel.Warning, Message = "Return {ReturnId}: stage {Stage} failed permanently; raising an exception record")]
    private static partial void LogPermanent(ILogger logger, Exception exception, string returnId, string stage);

    // One EventId per outcome, so dashboards and alerts can count outcomes without parsing messages.
    [LoggerMessage(EventId = 4410, Level = LogLevel.Information, Message = "Return {ReturnId}: message {MessageId} reconciled (state {State})")]
    private static partial void LogReconciled(ILogger logger, string returnId, string messageId, string? state);

    [LoggerMessage(EventId = 4411, Level = LogLevel.Information, Message = "Return {ReturnId}: message {MessageId} was stale; reconciled from the stored snapshot (state {State})")]
    private static partial void LogStaleReconciled(ILogger logger, string returnId, string messageId, string? state);

    [LoggerMessage(EventId = 4412, Level = LogLevel.Information, Message = "Return {ReturnId}: message {MessageId} recorded only (no snapshot yet)")]
    private static partial void LogRecordedOnly(ILogger logger, string returnId, string messageId);

    [LoggerMessage(EventId = 4413, Level = LogLevel.Warning, Message = "Return {ReturnId}: message {MessageId} completed with {Count} exception record(s) for their owners")]
    private static partial void LogExceptionRaised(ILogger logger, string returnId, string messageId, int count);

    [LoggerMessage(EventId = 4414, Level = LogLevel.Warning, Message = "Return {ReturnId}: message {MessageId} abandoned after a transient failure (delivery {DeliveryCount}); the host redelivers it")]
    private static partial void LogAbandoned(ILogger logger, Exception exception, string? returnId, string messageId, int deliveryCount);

    [LoggerMessage(EventId = 4415, Level = LogLevel.Information, Message = "Return {ReturnId}: shadow mode planned {Model}.{Method} in stage {Stage}; its family stops here (done-in-shadow)")]
    private static partial void LogShadowStopped(ILogger logger, string returnId, string stage, string model, string method);

    [LoggerMessage(EventId = 4407, Level = LogLevel.Error, Message = "Message {MessageId} names no trigger or return id; parked as an exception")]
    private static partial void LogUnroutable(ILogger logger, string messageId);
}

/// <summary>What a call to <see cref="ReturnEventHandler.HandleAsync"/> did (the message is complete in every case).</summary>
public enum ReturnHandlingOutcome
{
    /// <summary>The pipeline ran on the event's own (newest) snapshot.</summary>
    Reconciled,

    /// <summary>The event was older than the applied snapshot; the pipeline ran on the stored newest snapshot.</summary>
    StaleReconciled,

    /// <summary>A non-snapshot event arrived before any snapshot of its return: recorded only.</summary>
    RecordedOnly,

    /// <summary>A permanent problem was recorded as an exception record (its stage family stopped; the others ran).</summary>
    ExceptionRaised,
}

/// <param name="Outcome">What happened.</param>
/// <param name="ReturnId">The Loop return id, when known.</param>
/// <param name="State">The state of the snapshot acted on, when one was.</param>
/// <param name="Exceptions">Exception records raised while handling.</param>
public sealed record ReturnHandlingResult(ReturnHandlingOutcome Outcome, string? ReturnId, string? State, IReadOnlyList<ExceptionRecord> Exceptions);
