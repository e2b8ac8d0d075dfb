using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// Compares every Loop return updated in a window with Fulfil and the per-return ledger, and Fulfil's Loop documents
/// with Loop; heals what a pipeline re-run can repair; stores the report. Entry point of the daily timer
/// (<see cref="RunScheduledAsync"/>), <c>loopfulfil reconcile --from --to</c> (<see cref="ReconciliationMode.Daily"/>)
/// and <c>loopfulfil audit --from --to</c> (<see cref="ReconciliationMode.Audit"/>: read-only).
/// </summary>
/// <remarks>
/// Healing only re-enqueues: the returns handler (and the exchange handler) find existing documents by ledger step and
/// by reference before creating anything, so a heal sent twice, or racing a late webhook, still yields one document.
/// Returns with an open exception record are not healed: their owner acts first, then replays.
/// </remarks>
public sealed partial class ReconciliationJob
{
    private const string Source = "reconciliation";

    private readonly ILoopClient _loop;
    private readonly IFulfilReconciliationReader _fulfil;
    private readonly ReturnLedger _ledger;
    private readonly PostingStore _postings;
    private readonly ExceptionService _exceptions;
    private readonly IMessageSender _sender;
    private readonly ReconciliationReportStore _reports;
    private readonly IOptionsMonitor<ReconciliationOptions> _options;
    private readonly IOptionsMonitor<ExceptionOptions> _exceptionOptions;
    private readonly IOptionsMonitor<RefundsOptions> _refundsOptions;
    private readonly LoopReferences _references;
    private readonly TimeProvider _time;
    private readonly LoopFulfilMetrics _metrics;
    private readonly ILogger<ReconciliationJob> _logger;

    public ReconciliationJob(
        ILoopClient loop,
        IFulfilReconciliationReader fulfil,
        ReturnLedger ledger,
        PostingStore postings,
        ExceptionService exceptions,
        IMessageSender sender,
        ReconciliationReportStore reports,
        IOptionsMonitor<ReconciliationOptions> options,
        IOptionsMonitor<ExceptionOptions> exceptionOptions,
        IOptionsMonitor<RefundsOptions> refundsOptions,
        LoopReferences references,
        TimeProvider time,
        ILogger<ReconciliationJob> logger,
        LoopFulfilMetrics? metrics = null)
    {
        _loop = loop;
        _fulfil = fulfil;
        _ledger = ledger;
        _postings = postings;
        _exceptions = exceptions;
        _sender = sender;
        _reports = reports;
        _options = options;
        _exceptionOptions = exceptionOptions;
        _refundsOptions = refundsOptions;
        _references = references;
        _time = time;
        _logger = logger;
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
    }

    /// <summary>The timer's entry point: a <see cref="ReconciliationMode.Daily"/> run over the previous UTC day.</summary>
    public Task<ReconciliationReport> RunScheduledAsync(CancellationToken cancellationToken)
    {
        (var from, var to) = PreviousDay(_time.GetUtcNow());
        return RunAsync(from, to, ReconciliationMode.Daily, cancellationToken);
    }

    /// <summary>[00:00 the day before, 00:00 today) in UTC.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) PreviousDay(DateTimeOffset now)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return (today.AddDays(-1), today);
    }

    /// <summary>
    /// Reconciles the Loop returns updated in [<paramref name="from"/>, <paramref name="to"/>) (any length: Loop's list is
    /// read in windows of at most 120 days) and the Fulfil Loop documents created in it; stores and returns the report.
    /// Transient failures (Loop, Fulfil, storage) escape: the run is simply repeated.
    /// </summary>
    public async Task<ReconciliationReport> RunAsync(DateTimeOffset from, DateTimeOffset to, ReconciliationMode mode, CancellationToken cancellationToken)
    {
        if (to <= from)
        {
            throw new ArgumentException($"The window must end after it starts ({from:o} .. {to:o}).", nameof(to));
        }

        var o = _options.CurrentValue;
        var eo = _exceptionOptions.CurrentValue;
        var started = _time.GetUtcNow();
        var runId = $"{started.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{mode}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["ReconciliationRun"] = runId });
        LogStarted(_logger, runId, mode, from, to);

        var returns = new Dictionary<string, LoopReturn>(StringComparer.Ordinal);
        var query = new LoopReturnListQuery
        {
            From = from,
            To = to,
            Filter = LoopReturnListFilter.UpdatedAt,
            States = [ReturnStates.Open, ReturnStates.Review, ReturnStates.Closed, ReturnStates.Cancelled, ReturnStates.Expired],
        };
        await foreach (var r in _loop.ListReturnsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            // Loop's range is inclusive of both ends; ours excludes the end so consecutive days do not overlap.
            if (!string.IsNullOrEmpty(r.Id) && !(r.UpdatedAt >= to))
            {
                returns[r.Id] = r;
            }
        }

        var openExceptions = new List<ExceptionRecord>();
        await foreach (var record in _exceptions.ListAsync(ExceptionStatus.Open, null, cancellationToken).ConfigureAwait(false))
        {
            openExceptions.Add(record);
        }

        HashSet<string> blocked = [.. openExceptions.Select(e => e.ReturnId).OfType<string>()];

        var documents = returns.Count == 0 ? [] : await _fulfil.GetDocumentsOfReturnsAsync(returns.Keys, cancellationToken).ConfigureAwait(false);
        var byReturn = documents.ToLookup(d => d.ReturnId, StringComparer.Ordinal);
        var mismatches = new List<ReconciliationMismatch>();
        var latencies = new List<double>();
        var totals = new Dictionary<(RefundType Type, string Currency), (int Returns, decimal Loop, decimal Fulfil)>();
        var confirmed = new List<string>();
        var now = _time.GetUtcNow();
        foreach (var r in returns.Values.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            FulfilLoopDocument[] docs = [.. byReturn[r.Id!].Where(d => d.IsLive)];
            var steps = await _ledger.GetStepsAsync(r.Id!, cancellationToken).ConfigureAwait(false);
            await CheckReturnAsync(r, docs, steps, now, o, eo, mismatches, latencies, totals, confirmed, cancellationToken).ConfigureAwait(false);
        }

        await FindOrphansAsync(from, to, returns, o, eo, mismatches, cancellationToken).ConfigureAwait(false);

        var healMessages = 0;
        if (mode == ReconciliationMode.Daily)
        {
            healMessages = o.SelfHeal ? await HealAsync(runId, returns, mismatches, blocked, cancellationToken).ConfigureAwait(false) : 0;
            if (o.RaiseExceptions)
            {
                await RaiseAsync(mismatches, cancellationToken).ConfigureAwait(false);
            }
        }

        if (mode == ReconciliationMode.Daily && o.RaiseExceptions)
        {
            // The report shows the exception records as the run leaves them (including what it just raised).
            openExceptions.Clear();
            await foreach (var record in _exceptions.ListAsync(ExceptionStatus.Open, null, cancellationToken).ConfigureAwait(false))
            {
                openExceptions.Add(record);
            }
        }

        foreach (var m in mismatches)
        {
            _metrics.ReconciliationMismatch(m.Kind.ToString(), m.Owner, mode.ToString());
            LogMismatch(_logger, m.Kind, m.ReturnId, m.Owner, m.Reference, m.Expected, m.Actual, m.Healed);
        }

        var completed = _time.GetUtcNow();
        var report = new ReconciliationReport
        {
            RunId = runId,
            Mode = mode,
            From = from,
            To = to,
            StartedAt = started,
            CompletedAt = completed,
            ReturnsChecked = returns.Count,
            Totals = [.. totals.OrderBy(t => t.Key.Currency, StringComparer.Ordinal).ThenBy(t => t.Key.Type)
                .Select(t => new RefundTotal(t.Key.Type, t.Key.Currency, t.Value.Returns, t.Value.Loop, t.Value.Fulfil))],
            Mismatches = mismatches,
            MismatchCounts = [.. mismatches.GroupBy(m => (m.Kind, m.Owner)).OrderBy(g => g.Key.Kind)
                .Select(g => new MismatchCount(g.Key.Kind, g.Key.Owner, g.Count(), g.Count(m => m.Healed)))],
            OpenExceptions = openExceptions.Count,
            OldestOpenExceptions = [.. openExceptions.OrderBy(e => e.FirstSeen).Take(Math.Max(0, o.OldestExceptionsShown))
                .Select(e => new OpenExceptionSummary(e.Id, e.Category.ToString(), e.Owner, e.ReturnId, e.FirstSeen, e.Attempts, e.Message))],
            RestockLatency = Latency(latencies),
            HealMessagesSent = healMessages,
            ConfirmedWithoutProcessing = confirmed,
        };

        // History includes this run: save it first, then read the days back.
        await _reports.SaveAsync(report, cancellationToken).ConfigureAwait(false);
        var last = ReconciliationReportStore.DayOf(report);
        var history = await _reports.GetHistoryAsync(last.AddDays(1 - Math.Max(1, o.HistoryDays)), last, cancellationToken).ConfigureAwait(false);
        report = report with { History = history };
        await _reports.SaveAsync(report, cancellationToken).ConfigureAwait(false);
        LogCompleted(_logger, runId, returns.Count, mismatches.Count, mismatches.Count(m => m.Healed), healMessages);
        return report;
    }

    private async Task CheckReturnAsync(
        LoopReturn r,
        FulfilLoopDocument[] docs,
        IReadOnlyList<StepRecord> steps,
        DateTimeOffset now,
        ReconciliationOptions o,
        ExceptionOptions eo,
        List<ReconciliationMismatch> mismatches,
        List<double> latencies,
        Dictionary<(RefundType, string), (int, decimal, decimal)> totals,
        List<string> confirmed,
        CancellationToken cancellationToken)
    {
        var id = r.Id!;
        var state = ReturnStates.Normalise(r.State);
        var currency = string.IsNullOrWhiteSpace(r.Currency) ? null : r.Currency.Trim().ToUpperInvariant();
        ReconciliationMismatch Add(ReconciliationMismatchKind kind, string? reference, string expected, string actual, string? cur, string detail)
        {
            var m = new ReconciliationMismatch(kind, id, ReconciliationMismatchKinds.OwnerOf(kind, eo, o), reference, expected, actual, cur, detail);
            mismatches.Add(m);
            return m;
        }

        // Duplicates: one reference (or one return's return order) more than once.
        foreach (var group in docs.GroupBy(d => (d.Type, Ref: d.Type == LoopDocumentType.ReturnOrder ? _references.ReturnOrder(id) : d.Reference)).Where(g => g.Count() > 1))
        {
            var ids = string.Join(", ", group.Select(d => d.Number ?? d.Id.ToString(CultureInfo.InvariantCulture)));
            Add(ReconciliationMismatchKind.DuplicateDocument, group.Key.Ref, "1", group.Count().ToString(CultureInfo.InvariantCulture), null,
                $"{group.Key.Type} {group.Key.Ref} exists {group.Count()} times in Fulfil ({ids}); cancel all but one.");
        }

        FulfilLoopDocument[] returnOrders = [.. docs.Where(d => d.Type == LoopDocumentType.ReturnOrder)];
        if (returnOrders.Length == 0 && state is ReturnStates.Open or ReturnStates.Review or ReturnStates.Closed)
        {
            Add(ReconciliationMismatchKind.MissingReturnOrder, _references.ReturnOrder(id), "return order", ReconciliationValues.Missing, null,
                $"Loop return {id} is {state} but Fulfil has no return order with channel_identifier {id}.");
        }

        // Restock: goods received into quarantine must leave it within the SLA (ledger step times).
        var received = steps.Where(s => s.Status == StepStatus.Done && s.Step.StartsWith("receipt:", StringComparison.Ordinal)).Min(s => s.CompletedAt);
        var restocked = steps.Where(s => s.Status == StepStatus.Done && s.Step.StartsWith("restock:", StringComparison.Ordinal)).Max(s => s.CompletedAt);
        var restockedInFulfil = docs.Any(d => d.Type == LoopDocumentType.InternalShipment && d.State == "done");
        if (received is { } inAt)
        {
            if (restocked is { } outAt && outAt >= inAt)
            {
                latencies.Add((outAt - inAt).TotalHours);
            }
            else if (!restockedInFulfil && now - inAt > o.RestockSla)
            {
                var hours = Math.Round((now - inAt).TotalHours, 1);
                Add(ReconciliationMismatchKind.RestockDelayed, _references.Of(id, LoopReferences.Restock), $"restocked within {o.RestockSla.TotalHours.ToString(CultureInfo.InvariantCulture)} h",
                    $"in quarantine {hours.ToString(CultureInfo.InvariantCulture)} h", null,
                    $"Return {id}: goods received into quarantine at {inAt:u} have not left it ({hours.ToString(CultureInfo.InvariantCulture)} h, SLA {o.RestockSla.TotalHours.ToString(CultureInfo.InvariantCulture)} h).");
            }
        }

        if (state != ReturnStates.Closed)
        {
            // Money and exchanges are final only once Loop processed (closed) the return.
            return;
        }

        await CheckClosedReturnAsync(r, docs, steps, currency ?? "?", o, eo, mismatches, totals, confirmed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Documents created in the window whose return is not among the window's Loop returns are checked against Loop
    /// one by one; a return Loop answers 404 for makes them orphans.
    /// </summary>
    private async Task FindOrphansAsync(DateTimeOffset from, DateTimeOffset to, Dictionary<string, LoopReturn> known, ReconciliationOptions o, ExceptionOptions eo, List<ReconciliationMismatch> mismatches, CancellationToken cancellationToken)
    {
        var created = await _fulfil.GetLoopDocumentsCreatedAsync(from, to, cancellationToken).ConfigureAwait(false);
        foreach (var group in created.Where(d => d.IsLive && !known.ContainsKey(d.ReturnId)).GroupBy(d => d.ReturnId, StringComparer.Ordinal))
        {
            try
            {
                await _loop.GetReturnAsync(group.Key, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (LoopNotFoundException)
            {
            }

            var owner = ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.OrphanDocument, eo, o);
            foreach (var d in group.DistinctBy(d => (d.Type, d.Id)))
            {
                var shown = d.Reference ?? _references.ReturnOrder(d.ReturnId);
                mismatches.Add(new ReconciliationMismatch(ReconciliationMismatchKind.OrphanDocument, group.Key, owner, shown, "no document", $"{d.Type} {d.Number ?? d.Id.ToString(CultureInfo.InvariantCulture)}",
                    null,
                    $"Fulfil {d.Type} {shown} ({d.Number ?? d.Id.ToString(CultureInfo.InvariantCulture)}, {d.State}) names Loop return {group.Key}, which Loop does not know."));
            }
        }
    }

    private async Task RaiseAsync(List<ReconciliationMismatch> mismatches, CancellationToken cancellationToken)
    {
        for (var i = 0; i < mismatches.Count; i++)
        {
            var m = mismatches[i];
            if (m.Healed || ReconciliationMismatchKinds.CategoryOf(m.Kind) is not { } category)
            {
                continue;
            }

            var record = await _exceptions.RaiseAsync(
                new ExceptionRaise(category, m.ReturnId, $"Reconciliation: {m.Detail}") { DetailKey = $"reconciliation:{m.Kind}:{m.Reference}", Source = Source },
                cancellationToken).ConfigureAwait(false);
            mismatches[i] = m with { ExceptionId = record.Id };
        }
    }

    /// <summary>Median and 95th percentile (nearest rank), in hours rounded to 0.1.</summary>
    internal static RestockLatency Latency(IReadOnlyCollection<double> hours)
    {
        if (hours.Count == 0)
        {
            return new RestockLatency(0, null, null);
        }

        double[] sorted = [.. hours.Order()];
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        var p95 = sorted[Math.Max(0, (int)Math.Ceiling(0.95 * sorted.Length) - 1)];
        return new RestockLatency(sorted.Length, Math.Round(median, 1), Math.Round(p95, 1));
    }

    internal static string Money(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Information, Message = "Reconciliation {RunId} ({Mode}) of {From:o} .. {To:o} started")]
    private static partial void LogStarted(ILogger logger, string runId, ReconciliationMode mode, DateTimeOffset from, DateTimeOffset to);

    [LoggerMessage(EventId = 4802, Level = LogLevel.Warning, Message = "Reconciliation mismatch {ReconciliationMismatch} on return {ReturnId} (owner {Owner}, {Reference}): expected {Expected}, actual {Actual}, healed {Healed}")]
    private static partial void LogMismatch(ILogger logger, ReconciliationMismatchKind reconciliationMismatch, string returnId, string owner, string? reference, string expected, string actual, bool healed);

    [LoggerMessage(EventId = 4803, Level = LogLevel.Information, Message = "Return {ReturnId} re-enqueued by reconciliation {RunId} to repair missing steps")]
    private static partial void LogHealed(ILogger logger, string returnId, string runId);

    [LoggerMessage(EventId = 4804, Level = LogLevel.Information, Message = "Reconciliation {RunId} done: {Returns} returns, {Mismatches} mismatches ({Healed} healed, {Messages} messages sent)")]
    private static partial void LogCompleted(ILogger logger, string runId, int returns, int mismatches, int healed, int messages);
}
