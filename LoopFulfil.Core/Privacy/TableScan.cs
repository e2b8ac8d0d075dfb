using System.Runtime.CompilerServices;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Privacy;

/// <summary>Queries for the privacy jobs: a table that was never created reads as empty (not every host makes every table).</summary>
internal static class TableScan
{
    /// <summary>Every entity of <paramref name="table"/> matching <paramref name="filter"/> (null: all), streamed.</summary>
    public static async IAsyncEnumerable<TableEntity> AllAsync(ITableStore tables, string table, string? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = tables.QueryAsync(table, filter, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (rows.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await rows.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (PermanentStorageException ex) when (ex.ErrorCode == "TableNotFound")
                {
                    yield break;
                }

                yield return rows.Current;
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="size"/> entities after <paramref name="after"/> in key order (the order Table storage
    /// returns them), matching <paramref name="filter"/>: one page of a pass that can stop and resume anywhere.
    /// </summary>
    public static async Task<IReadOnlyList<TableEntity>> PageAsync(ITableStore tables, string table, string? filter, RetentionPosition after, int size, CancellationToken cancellationToken)
    {
        var keyset = after.AtStart
            ? null
            : TableFilter.Or(
                TableFilter.GreaterThan("PartitionKey", after.AfterPartition),
                TableFilter.And(TableFilter.PartitionKeyEquals(after.AfterPartition), TableFilter.GreaterThan("RowKey", after.AfterRow)));
        var combined = (filter, keyset) switch
        {
            (null, null) => null,
            (null, _) => keyset,
            (_, null) => filter,
            _ => TableFilter.And(filter, keyset),
        };

        var page = new List<TableEntity>(size);
        await foreach (var entity in AllAsync(tables, table, combined, cancellationToken).ConfigureAwait(false))
        {
            page.Add(entity);
            if (page.Count == size)
            {
                break;
            }
        }

        return page;
    }
}
