using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Exceptions;

/// <summary>What one recheck run did.</summary>
/// <param name="Checked">Open SKU exception records examined.</param>
/// <param name="Replayed">Records whose SKUs are now all active and whose event was re-enqueued.</param>
/// <param name="StillBlocked">Records with at least one SKU still missing or archived.</param>
/// <param name="NotReplayable">Records whose SKUs are all active but that could not be replayed (no raw event, not routable).</param>
public sealed record SkuRecheckSummary(int Checked, int Replayed, int StillBlocked, int NotReplayable);

/// <summary>
/// The scheduled SKU recheck (<see cref="ExceptionOptions.SkuRecheckSchedule"/>): once merchandising has created or
/// re-activated the products, the returns that failed on them go through again without anyone pressing replay.
/// </summary>
public sealed partial class SkuExceptionRechecker
{
    // Keep each catalog question small enough for one Fulfil search call.
    private const int LookupBatchSize = 100;

    private static readonly ExceptionCategory[] SkuCategories = [ExceptionCategory.SkuNotFound, ExceptionCategory.SkuArchived];

    private readonly ExceptionService _exceptions;
    private readonly ISkuCatalog _catalog;
    private readonly ILogger<SkuExceptionRechecker> _logger;

    public SkuExceptionRechecker(ExceptionService exceptions, ISkuCatalog catalog, ILogger<SkuExceptionRechecker> logger)
    {
        _exceptions = exceptions;
        _catalog = catalog;
        _logger = logger;
    }

    /// <summary>
    /// Looks up the SKUs of every open <see cref="ExceptionCategory.SkuNotFound"/> / <see cref="ExceptionCategory.SkuArchived"/>
    /// record and replays those whose SKUs are all <see cref="SkuStatus.Active"/> now. A record with any SKU still
    /// missing or archived stays open.
    /// </summary>
    public async Task<SkuRecheckSummary> RunAsync(CancellationToken cancellationToken)
    {
        var open = new List<ExceptionRecord>();
        foreach (var category in SkuCategories)
        {
            await foreach (var record in _exceptions.ListAsync(ExceptionStatus.Open, category, cancellationToken).ConfigureAwait(false))
            {
                if (record.Skus.Count > 0)
                {
                    open.Add(record);
                }
            }
        }

        if (open.Count == 0)
        {
            return new SkuRecheckSummary(0, 0, 0, 0);
        }

        string[] distinct = [.. open.SelectMany(r => r.Skus).Distinct(StringComparer.Ordinal)];
        var statuses = new Dictionary<string, SkuStatus>(StringComparer.Ordinal);
        foreach (var batch in distinct.Chunk(LookupBatchSize))
        {
            var answer = await _catalog.LookupAsync(batch, cancellationToken).ConfigureAwait(false);
            foreach (var sku in batch)
            {
                statuses[sku] = answer.TryGetValue(sku, out var s) ? s : SkuStatus.Missing;
            }
        }

        int replayed = 0, blocked = 0, notReplayable = 0;
        foreach (var record in open)
        {
            if (!record.Skus.All(sku => statuses[sku] == SkuStatus.Active))
            {
                blocked++;
                continue;
            }

            var result = await _exceptions.ReplayAsync(record.Id, cancellationToken).ConfigureAwait(false);
            if (result.Outcome == ReplayOutcome.Replayed)
            {
                replayed++;
            }
            else
            {
                notReplayable++;
                LogNotReplayable(_logger, record.Id, result.Outcome);
            }
        }

        LogRun(_logger, open.Count, replayed, blocked, notReplayable);
        return new SkuRecheckSummary(open.Count, replayed, blocked, notReplayable);
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "SKU recheck: {Checked} open, {Replayed} replayed, {Blocked} still blocked, {NotReplayable} not replayable")]
    private static partial void LogRun(ILogger logger, int @checked, int replayed, int blocked, int notReplayable);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "SKU exception {ExceptionId} has all SKUs active but could not be replayed: {Outcome}")]
    private static partial void LogNotReplayable(ILogger logger, string exceptionId, ReplayOutcome outcome);
}
