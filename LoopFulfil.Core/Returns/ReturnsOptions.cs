using System.Collections.ObjectModel;

namespace LoopFulfil.Core.Returns;

/// <summary>Settings of the returns pipeline (configuration section <c>Returns</c>).</summary>
public sealed class ReturnsOptions
{
    public const string Section = "Returns";

    /// <summary>
    /// Prefix of every reference LoopFulfil writes in Fulfil: the return order (RMA) <c>{prefix}{Loop return id}</c> and
    /// its documents <c>{prefix}{Loop return id}-{suffix}</c> (<see cref="LoopReferences"/>). Not empty.
    /// </summary>
    public string ReturnOrderReferencePrefix { get; set; } = LoopReferences.DefaultPrefix;

    /// <summary>
    /// How long an active product found by SKU is remembered. Missing and archived answers are never cached, so a
    /// SKU fixed by merchandising is seen on the next replay.
    /// </summary>
    public int SkuCacheSeconds { get; set; } = 60;

    /// <summary>
    /// When a non-return event (label, restock, gift card) arrives before any snapshot of its return, fetch the
    /// return from Loop's API so the pipeline can still run. False: the event is only recorded.
    /// </summary>
    public bool FetchMissingSnapshotFromLoop { get; set; } = true;

    /// <summary>
    /// When a closed return shows no sign in the payload or the ledger that Loop executed its outcomes, ask Loop's
    /// Get Return Details before treating it as closed without processing (docs/accounting.md row 12).
    /// </summary>
    public bool ConfirmProcessedWithLoop { get; set; } = true;

    /// <summary>
    /// Top-level fields of Get Return Details whose value (true, a non-empty string other than <c>false</c>/<c>0</c>,
    /// or a non-zero number) means Loop processed the return, e.g. <c>was_processed</c>. Empty by default: Loop
    /// documents no such field (the refunds, exchange order and gift-card order of the fetched return still count).
    /// </summary>
    public Collection<string> ProcessedDetailFields { get; } = [];

    /// <summary>Default of <see cref="StepLeaseDuration"/>: longer than one Fulfil call with its retries (3 min total timeout).</summary>
    public static readonly TimeSpan DefaultStepLeaseDuration = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a worker's claim on a ledger step or a posting keeps every other worker out (they back off as
    /// transient). A worker that crashed mid-step is taken over after this; it must exceed the longest create call
    /// (HttpResilience:TotalTimeout), or a second worker could look up before the first create has committed.
    /// </summary>
    public TimeSpan StepLeaseDuration { get; set; } = DefaultStepLeaseDuration;
}
