using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Everything a stage needs for one pass of the pipeline over one return: the newest snapshot, the event that
/// triggered the pass, the per-return ledger, the Fulfil documents found so far, configuration, and a way to raise an
/// exception record and stop the raising stage's family. One instance per message; stages run one at a time, so it is not thread-safe.
/// </summary>
public sealed class ReturnContext
{
    private readonly IReturnExceptionReporter _reporter;
    private readonly List<ExceptionRecord> _raised = [];
    private readonly HashSet<ReturnStageFamily> _stopped = [];

    public ReturnContext(
        ReturnEvent trigger,
        LoopReturn snapshot,
        DateTimeOffset snapshotTime,
        ReturnLedger ledger,
        FulfilOptions fulfilOptions,
        ReturnsOptions options,
        IReturnExceptionReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(snapshot);
        Event = trigger;
        Return = snapshot;
        SnapshotTime = snapshotTime;
        Ledger = ledger;
        FulfilOptions = fulfilOptions;
        Options = options;
        References = LoopReferences.From(options);
        _reporter = reporter;
        State = ReturnStates.Normalise(snapshot.State);
    }

    /// <summary>The Loop return id (the ledger partition and the return order's channel_identifier).</summary>
    public string ReturnId => Event.ReturnId;

    /// <summary>The newest known snapshot of the return (from this event, the ledger, or Loop's API).</summary>
    public LoopReturn Return { get; }

    /// <summary>edited_at/updated_at/created_at of <see cref="Return"/>: what made it the newest.</summary>
    public DateTimeOffset SnapshotTime { get; }

    /// <summary><see cref="LoopReturn.State"/> normalised to one of <see cref="ReturnStates"/> (lower case).</summary>
    public string State { get; }

    /// <summary>The delivery that started this pass.</summary>
    public ReturnEvent Event { get; }

    /// <summary>Per-return record of the snapshot, the steps done and the events seen.</summary>
    public ReturnLedger Ledger { get; }

    public FulfilOptions FulfilOptions { get; }

    public ReturnsOptions Options { get; }

    /// <summary>The references of this deployment's documents (built from <see cref="Options"/>).</summary>
    public LoopReferences References { get; }

    /// <summary>The original Fulfil sale, once a stage has found it.</summary>
    public FulfilSale? OriginalSale { get; set; }

    /// <summary>Fulfil id of the original sale (known from the ledger even when <see cref="OriginalSale"/> was not read).</summary>
    public int? OriginalSaleId { get; set; }

    /// <summary>The Fulfil return order, once a stage has read or created it.</summary>
    public FulfilSale? ReturnOrder { get; set; }

    /// <summary>Fulfil id of the return order (known from the ledger even when <see cref="ReturnOrder"/> was not read).</summary>
    public int? ReturnOrderId { get; set; }

    /// <summary>Scratch space for stages to hand results to later stages (keys: stage-defined, e.g. <c>receipt.shipments</c>).</summary>
    public IDictionary<string, object> Items { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Why a family stopped (for the log), or null: the first reason given in this pass.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The families stopped during this pass.</summary>
    public IReadOnlyCollection<ReturnStageFamily> StoppedFamilies => _stopped;

    /// <summary>The family of the stage running now (set by the handler); null outside a stage.</summary>
    public ReturnStageFamily? CurrentFamily { get; internal set; }

    /// <summary>
    /// True when Loop executed the return's outcomes (it is closed and processed, not closed by hand): only then do
    /// money, exchanges and write-back act on it (docs/accounting.md row 12). Settled by <see cref="ProcessingGate"/>
    /// before the stages run.
    /// </summary>
    public bool IsProcessed { get; internal set; }

    /// <summary>Exception records raised during this pass.</summary>
    public IReadOnlyList<ExceptionRecord> RaisedExceptions => _raised;

    /// <summary>True for <c>cancelled</c> and <c>expired</c>: nothing more will arrive at the warehouse.</summary>
    public bool IsCancelledOrExpired => State is ReturnStates.Cancelled or ReturnStates.Expired;

    /// <summary>
    /// Ends the current stage's family for this message after the current stage; later stages of that family (and of
    /// the families that depend on it, <see cref="ReturnStageFamilies.Blocks"/>) do not run. Outside a stage, or in
    /// the authorisation family, everything stops.
    /// </summary>
    public void Stop(string reason)
    {
        _stopped.Add(CurrentFamily ?? ReturnStageFamily.Authorisation);
        StopReason ??= reason;
    }

    /// <summary>True when a family stopped in this pass keeps <paramref name="family"/> from running.</summary>
    public bool IsBlocked(ReturnStageFamily family) => _stopped.Any(s => ReturnStageFamilies.Blocks(s, family));

    /// <summary>
    /// Records a permanent problem (with the raw event, for replay) under its owner, optionally flags the return in
    /// Loop, and stops the current stage's family (<see cref="Stop"/>). The message is still completed: the record is
    /// the follow-up.
    /// </summary>
    /// <param name="skus">SKUs involved, for SKU categories (the rechecker replays once they are all active).</param>
    /// <param name="detailKey">Separates several problems of one category on one return.</param>
    public async Task<ExceptionRecord> RaiseAsync(ExceptionCategory category, string message, string source, CancellationToken cancellationToken, IReadOnlyList<string>? skus = null, string? detailKey = null)
    {
        var record = await ReportAsync(category, message, source, cancellationToken, skus, detailKey).ConfigureAwait(false);
        Stop($"{category}: {record.Id}");
        return record;
    }

    /// <summary>
    /// Records a permanent problem like <see cref="RaiseAsync"/> without stopping anything: for problems whose
    /// consequence the caller decides (e.g. a return closed without processing holds only the outcome families).
    /// A generic Fulfil refusal inside a stage is owned by that stage family's team.
    /// </summary>
    public async Task<ExceptionRecord> ReportAsync(ExceptionCategory category, string message, string source, CancellationToken cancellationToken, IReadOnlyList<string>? skus = null, string? detailKey = null)
    {
        var raise = new ExceptionRaise(category, ReturnId, message)
        {
            Skus = skus ?? [],
            DetailKey = detailKey,
            RawEvent = Event.Body,
            Source = source,
            OwnerAs = category == ExceptionCategory.FulfilRejected && CurrentFamily is { } family ? ReturnStageFamilies.OwnerCategory(family) : null,
        };
        var record = await _reporter.ReportAsync(raise, cancellationToken).ConfigureAwait(false);
        _raised.Add(record);
        return record;
    }
}

/// <summary>Loop return states as the pipeline compares them.</summary>
public static class ReturnStates
{
    public const string Open = "open";
    public const string Review = "review";
    public const string Closed = "closed";
    public const string Cancelled = "cancelled";
    public const string Expired = "expired";

    /// <summary>Lower-cases and maps the legacy <c>needs review</c> to <c>review</c>; empty when absent.</summary>
    public static string Normalise(string? state)
    {
        var s = (state ?? string.Empty).Trim().ToLowerInvariant();
        return s is "needs review" or "needs_review" ? Review : s;
    }
}

/// <summary>
/// Records a return's permanent problem: the exception record first, then (when configured) the Loop flag and note.
/// Implemented by <see cref="ReturnExceptionReporter"/>.
/// </summary>
public interface IReturnExceptionReporter
{
    Task<ExceptionRecord> ReportAsync(ExceptionRaise raise, CancellationToken cancellationToken);
}
