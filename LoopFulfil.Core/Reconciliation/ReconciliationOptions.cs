namespace LoopFulfil.Core.Reconciliation;

/// <summary>Daily reconciliation and the audit (configuration section <c>Reconciliation</c>).</summary>
public sealed class ReconciliationOptions
{
    public const string Section = "Reconciliation";

    /// <summary>Six-field NCRONTAB schedule of the daily run (default 02:00 UTC); each run reconciles the previous UTC day.</summary>
    public string Schedule { get; set; } = "0 0 2 * * *";

    /// <summary>How long received goods may wait in quarantine before the return is reported as RestockDelayed.</summary>
    public TimeSpan RestockSla { get; set; } = TimeSpan.FromHours(72);

    /// <summary>
    /// Daily runs re-enqueue returns with missing steps (return order, credit note, journal, exchange order). The
    /// pipeline is idempotent, so a heal never creates a second document. Audit runs never heal.
    /// </summary>
    public bool SelfHeal { get; set; } = true;

    /// <summary>
    /// Daily runs raise exception records (under the owners of <c>Exceptions</c>) for mismatches that map to an
    /// exception category and were not healed: RestockDelayed, AmountMismatch (credit note, journal), ExchangeOrderFailed.
    /// </summary>
    public bool RaiseExceptions { get; set; } = true;

    /// <summary>Days of run history the report charts.</summary>
    public int HistoryDays { get; set; } = 30;

    /// <summary>How many of the oldest open exception records the report lists.</summary>
    public int OldestExceptionsShown { get; set; } = 10;

    /// <summary>Returns per batched Fulfil search (one search per model per batch).</summary>
    public int FulfilBatchSize { get; set; } = 25;

    /// <summary>
    /// Owners of the mismatch kinds that have no exception category (<see cref="ReconciliationMismatchKind.MissingReturnOrder"/>,
    /// <see cref="ReconciliationMismatchKind.DuplicateDocument"/>, <see cref="ReconciliationMismatchKind.OrphanDocument"/>).
    /// The others take the owner of their category from <c>Exceptions:Owners</c>.
    /// </summary>
    public Dictionary<ReconciliationMismatchKind, string> Owners { get; } = new()
    {
        [ReconciliationMismatchKind.MissingReturnOrder] = "operations",
        // A second credit note or journal is money posted twice; a stray LOOP- document is a ledger nobody explains.
        [ReconciliationMismatchKind.DuplicateDocument] = "finance",
        [ReconciliationMismatchKind.OrphanDocument] = "finance",
    };
}

/// <summary>How a run behaves.</summary>
public enum ReconciliationMode
{
    /// <summary>The scheduled run: checks, heals (when <see cref="ReconciliationOptions.SelfHeal"/>), raises exception records.</summary>
    Daily,

    /// <summary>Read-only over any range (<c>loopfulfil audit</c>): checks and stores the report, changes nothing else.</summary>
    Audit,
}
