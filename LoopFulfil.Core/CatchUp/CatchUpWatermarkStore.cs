using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.CatchUp;

/// <summary>What the last successful sweep covered.</summary>
/// <param name="CoveredUntil">Every return updated before this was looked at.</param>
/// <param name="SweptAt">When that sweep finished.</param>
public sealed record CatchUpWatermark(DateTimeOffset CoveredUntil, DateTimeOffset SweptAt);

/// <summary>
/// The sweep's watermark: one row in the <c>catchup</c> table, written only after a successful pass and only forwards
/// (ETag-checked), so two sweeps racing never move it back.
/// </summary>
public sealed class CatchUpWatermarkStore
{
    public const string Table = "catchup";

    private const string Partition = "sweep";
    private const string Row = "returns";
    private const string CoveredUntilProperty = "CoveredUntil";
    private const string SweptAtProperty = "SweptAt";

    private readonly ITableStore _tables;
    private volatile bool _tableReady;

    public CatchUpWatermarkStore(ITableStore tables) => _tables = tables;

    /// <summary>The stored watermark, or null before the first successful sweep.</summary>
    public async Task<CatchUpWatermark?> GetAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = await _tables.GetAsync(Table, Partition, Row, cancellationToken).ConfigureAwait(false);
        return row?.GetDateTimeOffset(CoveredUntilProperty) is { } covered
            ? new CatchUpWatermark(covered, row.GetDateTimeOffset(SweptAtProperty) ?? covered)
            : null;
    }

    /// <summary>Moves the watermark to <paramref name="coveredUntil"/> unless it already stands there or later.</summary>
    public async Task AdvanceAsync(DateTimeOffset coveredUntil, DateTimeOffset sweptAt, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await _tables.GetAsync(Table, Partition, Row, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                var entity = new TableEntity(Partition, Row) { [CoveredUntilProperty] = coveredUntil, [SweptAtProperty] = sweptAt };
                if (await _tables.InsertAsync(Table, entity, cancellationToken).ConfigureAwait(false) == InsertOutcome.Inserted)
                {
                    return;
                }

                continue;
            }

            if (existing.GetDateTimeOffset(CoveredUntilProperty) is { } current && current >= coveredUntil)
            {
                return;
            }

            existing[CoveredUntilProperty] = coveredUntil;
            existing[SweptAtProperty] = sweptAt;
            if (await _tables.UpdateAsync(Table, existing, UpsertMode.Replace, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
            {
                return;
            }
        }

        throw new TransientIntegrationException("The catch-up watermark kept changing under concurrent sweeps; the next sweep advances it.");
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_tableReady)
        {
            await _tables.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
            _tableReady = true;
        }
    }
}
