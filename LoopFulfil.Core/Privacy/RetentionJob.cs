using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Privacy;

/// <summary>What one retention run did: counts only, never a value from a payload.</summary>
public sealed record RetentionReport
{
    public int ReturnsExamined { get; init; }

    /// <summary>Settled returns whose payloads were reduced in this run.</summary>
    public int ReturnsReduced { get; init; }

    /// <summary>Settled returns kept whole because an exception of theirs is still open.</summary>
    public int ReturnsKeptForOpenException { get; init; }

    /// <summary>Settled returns kept whole because the retention period has not passed.</summary>
    public int ReturnsKeptWithinPeriod { get; init; }

    /// <summary>Stored bodies (snapshots, events) rewritten without personal data.</summary>
    public int PayloadsReduced { get; init; }

    /// <summary>Raw events of resolved exceptions reduced (or removed, when not JSON).</summary>
    public int ExceptionRawEventsReduced { get; init; }

    /// <summary>Claim-checked message bodies deleted after <see cref="ClaimCheck.Retention"/>.</summary>
    public int ClaimCheckBodiesDeleted { get; init; }

    /// <summary>True when the pass over returns reached the end (the next run starts again from the first).</summary>
    public bool ReturnsPassFinished { get; init; }

    public bool ExceptionsPassFinished { get; init; }
}

/// <summary>
/// The retention timer's entry point on both hosts (<c>Privacy:RetentionSchedule</c>). Each run prunes the
/// claim-checked bodies past their lifetime, then walks the ledger and the exception records in pages from where
/// the previous run stopped: a settled return (closed, cancelled or expired) with no open exception, settled longer
/// than <c>Privacy:RetainPayloadsDays</c> ago, has its snapshot and event bodies reduced to what reconciliation and
/// audit need (<see cref="PersonalFields"/>); a resolved exception's raw event is reduced the same time after its
/// resolution. An open exception keeps its raw event (its replay needs it). Safe to run twice or concurrently with
/// the pipeline: every rewrite is ETag-checked, and a reduced body is marked so it is not read again.
/// </summary>
public sealed partial class RetentionJob
{
    internal const string ReturnsPass = "returns";
    internal const string ExceptionsPass = "exceptions";

    private static readonly string[] SettledStates = ["closed", "cancelled", "expired"];

    private readonly ITableStore _tables;
    private readonly StoredPayloads _payloads;
    private readonly ClaimCheck _claims;
    private readonly RetentionWatermarkStore _watermarks;
    private readonly IOptionsMonitor<PrivacyOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RetentionJob> _logger;

    public RetentionJob(ITableStore tables, IBlobStore blobs, ClaimCheck claims, RetentionWatermarkStore watermarks, IOptionsMonitor<PrivacyOptions> options, TimeProvider time, ILogger<RetentionJob> logger)
    {
        _tables = tables;
        _payloads = new StoredPayloads(tables, blobs);
        _claims = claims;
        _watermarks = watermarks;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public async Task<RetentionReport> RunAsync(CancellationToken cancellationToken)
    {
        var current = _options.CurrentValue;
        var report = new RetentionReport { ClaimCheckBodiesDeleted = await _claims.PruneAsync(cancellationToken).ConfigureAwait(false) };
        if (current.RetentionEnabled)
        {
            var cutoff = _time.GetUtcNow() - TimeSpan.FromDays(current.RetainPayloadsDays);
            report = await ReturnsAsync(report, cutoff, current, cancellationToken).ConfigureAwait(false);
            report = await ExceptionsAsync(report, cutoff, current, cancellationToken).ConfigureAwait(false);
        }

        LogRun(_logger, report.ReturnsExamined, report.ReturnsReduced, report.PayloadsReduced, report.ReturnsKeptForOpenException, report.ReturnsKeptWithinPeriod,
            report.ExceptionRawEventsReduced, report.ClaimCheckBodiesDeleted, report.ReturnsPassFinished, report.ExceptionsPassFinished);
        return report;
    }

    private async Task<RetentionReport> ReturnsAsync(RetentionReport report, DateTimeOffset cutoff, PrivacyOptions current, CancellationToken cancellationToken)
    {
        var position = await _watermarks.GetAsync(ReturnsPass, cancellationToken).ConfigureAwait(false);
        for (var page = 0; page < current.RetentionMaxPagesPerRun; page++)
        {
            var records = await TableScan.PageAsync(_tables, ReturnLedger.Table, TableFilter.RowKeyEquals("record"), position, current.RetentionPageSize, cancellationToken).ConfigureAwait(false);
            foreach (var record in records)
            {
                report = await ReturnAsync(report with { ReturnsExamined = report.ReturnsExamined + 1 }, record, cutoff, cancellationToken).ConfigureAwait(false);
            }

            var finished = records.Count < current.RetentionPageSize;
            position = finished ? RetentionPosition.Start : new RetentionPosition(records[^1].PartitionKey, records[^1].RowKey);
            await _watermarks.SetAsync(ReturnsPass, position, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (finished)
            {
                return report with { ReturnsPassFinished = true };
            }
        }

        return report;
    }

    private async Task<RetentionReport> ReturnAsync(RetentionReport report, TableEntity record, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var returnId = record.PartitionKey;
        if (!SettledStates.Contains(record.GetString("State") ?? "", StringComparer.OrdinalIgnoreCase)
            || StoredPayloads.PrefixesOf(record).All(p => StoredPayloads.IsReduced(record, p)))
        {
            return report;
        }

        // Settled when the last snapshot was applied or the last exception resolved, whichever is later.
        var settledAt = record.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue;
        var exceptionsOfReturn = TableFilter.And(TableFilter.Equal("Kind", "record"), TableFilter.Equal("ReturnId", returnId));
        await foreach (var exception in TableScan.AllAsync(_tables, ExceptionService.TableName, exceptionsOfReturn, cancellationToken).ConfigureAwait(false))
        {
            if (exception.GetString("Status") != nameof(ExceptionStatus.Resolved))
            {
                return report with { ReturnsKeptForOpenException = report.ReturnsKeptForOpenException + 1 };
            }

            if (exception.GetDateTimeOffset("ResolvedAt") is { } resolvedAt && resolvedAt > settledAt)
            {
                settledAt = resolvedAt;
            }
        }

        if (settledAt > cutoff)
        {
            return report with { ReturnsKeptWithinPeriod = report.ReturnsKeptWithinPeriod + 1 };
        }

        // Event rows first, the record row last: a run cut short finds the record unreduced and does the return again.
        var reduced = 0;
        var rows = new List<TableEntity>();
        await foreach (var row in TableScan.AllAsync(_tables, ReturnLedger.Table, TableFilter.PartitionKeyEquals(returnId), cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        foreach (var row in rows.OrderBy(r => r.RowKey == record.RowKey))
        {
            reduced += await ReduceAsync(ReturnLedger.Table, row, cancellationToken).ConfigureAwait(false);
        }

        return report with { ReturnsReduced = report.ReturnsReduced + 1, PayloadsReduced = report.PayloadsReduced + reduced };
    }

    private async Task<RetentionReport> ExceptionsAsync(RetentionReport report, DateTimeOffset cutoff, PrivacyOptions current, CancellationToken cancellationToken)
    {
        var position = await _watermarks.GetAsync(ExceptionsPass, cancellationToken).ConfigureAwait(false);
        var resolved = TableFilter.And(TableFilter.Equal("Kind", "record"), TableFilter.Equal("Status", nameof(ExceptionStatus.Resolved)));
        for (var page = 0; page < current.RetentionMaxPagesPerRun; page++)
        {
            var records = await TableScan.PageAsync(_tables, ExceptionService.TableName, resolved, position, current.RetentionPageSize, cancellationToken).ConfigureAwait(false);
            foreach (var record in records)
            {
                if (record.GetDateTimeOffset("ResolvedAt") is { } resolvedAt && resolvedAt <= cutoff)
                {
                    report = report with { ExceptionRawEventsReduced = report.ExceptionRawEventsReduced + await ReduceAsync(ExceptionService.TableName, record, cancellationToken).ConfigureAwait(false) };
                }
            }

            var finished = records.Count < current.RetentionPageSize;
            position = finished ? RetentionPosition.Start : new RetentionPosition(records[^1].PartitionKey, records[^1].RowKey);
            await _watermarks.SetAsync(ExceptionsPass, position, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (finished)
            {
                return report with { ExceptionsPassFinished = true };
            }
        }

        return report;
    }

    /// <summary>Reduces every body on <paramref name="entity"/> not reduced yet; returns how many were rewritten.</summary>
    private async Task<int> ReduceAsync(string table, TableEntity entity, CancellationToken cancellationToken)
    {
        var replacements = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var prefix in StoredPayloads.PrefixesOf(entity).Where(p => !StoredPayloads.IsReduced(entity, p)))
        {
            if (await _payloads.ReadAsync(entity, prefix, cancellationToken).ConfigureAwait(false) is not { } body)
            {
                // Being rewritten by its owner right now: the next run sees the new body.
                return 0;
            }

            // A body that is not JSON (a malformed webhook kept for the record) cannot be reduced field by field: it goes.
            replacements[prefix] = PersonalFields.Reduce(body, [], out _) ?? [];
        }

        if (replacements.Count == 0)
        {
            return 0;
        }

        var marks = new Dictionary<string, object?>(StringComparer.Ordinal) { ["PayloadsReducedAt"] = _time.GetUtcNow() };
        var written = await _payloads.RewriteAsync(table, entity, replacements, marks, cancellationToken).ConfigureAwait(false);
        return written ? replacements.Count : 0;
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Privacy retention: {Examined} returns examined, {Reduced} reduced ({Payloads} payloads), {KeptOpen} kept for an open exception, {KeptPeriod} kept within the period; {RawEvents} resolved exception raw events reduced; {ClaimChecks} claim-checked bodies deleted; returns pass finished {ReturnsFinished}, exceptions pass finished {ExceptionsFinished}")]
    private static partial void LogRun(ILogger logger, int examined, int reduced, int payloads, int keptOpen, int keptPeriod, int rawEvents, int claimChecks, bool returnsFinished, bool exceptionsFinished);
}
