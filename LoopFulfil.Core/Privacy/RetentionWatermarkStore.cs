using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Privacy;

/// <summary>Where a retention pass stands: the keys of the last record it finished (empty: at the start).</summary>
public sealed record RetentionPosition(string AfterPartition, string AfterRow)
{
    public static readonly RetentionPosition Start = new("", "");

    public bool AtStart => AfterPartition.Length == 0 && AfterRow.Length == 0;
}

/// <summary>
/// The retention job's position per pass, one row each in the <c>privacy</c> table, written after every page: a run
/// cut short (timeout, restart) carries on where it stopped instead of starting over.
/// </summary>
public sealed class RetentionWatermarkStore
{
    public const string Table = "privacy";

    private const string Partition = "retention";
    private readonly ITableStore _tables;
    private volatile bool _tableReady;

    public RetentionWatermarkStore(ITableStore tables) => _tables = tables;

    public async Task<RetentionPosition> GetAsync(string pass, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = await _tables.GetAsync(Table, Partition, pass, cancellationToken).ConfigureAwait(false);
        return row is null ? RetentionPosition.Start : new RetentionPosition(row.GetString("AfterPartition") ?? "", row.GetString("AfterRow") ?? "");
    }

    /// <summary>Stores <paramref name="position"/>; runs never overlap (one timer per host), so the last write wins.</summary>
    public async Task SetAsync(string pass, RetentionPosition position, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = new TableEntity(Partition, pass)
        {
            ["AfterPartition"] = position.AfterPartition,
            ["AfterRow"] = position.AfterRow,
            ["UpdatedAt"] = at,
        };
        await _tables.UpsertAsync(Table, row, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
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
