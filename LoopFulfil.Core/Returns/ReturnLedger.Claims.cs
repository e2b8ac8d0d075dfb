using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Returns;

public sealed partial class ReturnLedger
{
    private const string ClaimPartitionPrefix = "claim:";
    private const string ClaimRow = "claim";

    /// <summary>
    /// Claims a shared document (e.g. an existing-process return sale being adopted) for one return: an
    /// insert-if-absent of row <c>claim</c> in partition <c>claim:{key}</c> holding the return id, so two returns can
    /// never both adopt it. True when <paramref name="returnId"/> holds the claim (now or already).
    /// </summary>
    public async Task<bool> ClaimAsync(string key, string returnId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(returnId);
        await EnsureTableAsync(cancellationToken);
        var entity = new TableEntity(ClaimPartitionPrefix + key, ClaimRow)
        {
            ["ReturnId"] = returnId,
            ["ClaimedAt"] = _time.GetUtcNow(),
        };
        if (await _store.InsertAsync(Table, entity, cancellationToken) == InsertOutcome.Inserted)
        {
            return true;
        }

        var holder = await _store.GetAsync(Table, entity.PartitionKey, ClaimRow, cancellationToken);
        return string.Equals(holder?.GetString("ReturnId"), returnId, StringComparison.Ordinal);
    }
}
