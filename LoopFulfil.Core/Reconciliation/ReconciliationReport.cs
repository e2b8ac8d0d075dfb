namespace LoopFulfil.Core.Reconciliation;

/// <summary>Refund types the report totals.</summary>
public enum RefundType
{
    /// <summary>Refunded to the original payment; posted as the credit note <c>LOOP-{id}-CN</c>.</summary>
    CashRefund,

    /// <summary>Refunded as store credit (gift card); posted as the liability journal <c>LOOP-{id}-SC</c> or the Fulfil gift card <c>LOOP-{id}-GC</c>.</summary>
    StoreCredit,

    /// <summary>Credit used for an exchange; shipped as the sales order(s) <c>LOOP-{id}-EXC…</c>.</summary>
    Exchange,
}

/// <summary>Money of one refund type in one currency over the closed returns of the run.</summary>
/// <param name="Returns">Closed returns with a non-zero amount of this type.</param>
/// <param name="LoopAmount">What Loop says (refund, gift_card, exchange_credit_total).</param>
/// <param name="FulfilAmount">What Fulfil holds for them (credit note totals negated, journal debits or gift card amounts, exchange order totals; cancelled documents excluded).</param>
public sealed record RefundTotal(RefundType Type, string Currency, int Returns, decimal LoopAmount, decimal FulfilAmount);

/// <summary>Mismatches of one kind and their owner.</summary>
public sealed record MismatchCount(ReconciliationMismatchKind Kind, string Owner, int Count, int Healed);

/// <summary>An open exception record as the report lists it (no raw event, no personal data).</summary>
public sealed record OpenExceptionSummary(string Id, string Category, string Owner, string? ReturnId, DateTimeOffset FirstSeen, int Attempts, string Message);

/// <summary>Hours from goods received into quarantine to leaving it, over the returns of the run that were restocked.</summary>
public sealed record RestockLatency(int Samples, double? MedianHours, double? P95Hours);

/// <summary>One day of the history chart: the last run that covered that day.</summary>
public sealed record ReconciliationDay(DateOnly Date, string RunId, int ReturnsChecked, int Mismatches, int Healed);

/// <summary>What one reconciliation run found; stored per run (Table Storage) and rendered as CSV and HTML.</summary>
public sealed record ReconciliationReport
{
    public required string RunId { get; init; }

    public required ReconciliationMode Mode { get; init; }

    /// <summary>Start of the window (inclusive): Loop returns updated from here.</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>End of the window (exclusive).</summary>
    public required DateTimeOffset To { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Loop returns updated in the window.</summary>
    public required int ReturnsChecked { get; init; }

    public IReadOnlyList<RefundTotal> Totals { get; init; } = [];

    public IReadOnlyList<ReconciliationMismatch> Mismatches { get; init; } = [];

    public IReadOnlyList<MismatchCount> MismatchCounts { get; init; } = [];

    public IReadOnlyList<OpenExceptionSummary> OldestOpenExceptions { get; init; } = [];

    /// <summary>All open exception records when the run ended (the list above is the oldest few).</summary>
    public int OpenExceptions { get; init; }

    public RestockLatency RestockLatency { get; init; } = new(0, null, null);

    /// <summary>The last <see cref="ReconciliationOptions.HistoryDays"/> days, oldest first (days without a run are absent).</summary>
    public IReadOnlyList<ReconciliationDay> History { get; init; } = [];

    /// <summary>
    /// Closed returns finance confirmed as closed without processing, nothing to post (docs/accounting.md row 12): not
    /// mismatches, listed so the report accounts for every closed return.
    /// </summary>
    public IReadOnlyList<string> ConfirmedWithoutProcessing { get; init; } = [];

    /// <summary>Messages sent to repair returns (one per return, plus one per exchange re-sent).</summary>
    public int HealMessagesSent { get; init; }

    /// <summary>Mismatches the run did not heal: what needs a person.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IEnumerable<ReconciliationMismatch> NeedingAction => Mismatches.Where(m => !m.Healed);
}
