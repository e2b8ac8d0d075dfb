using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Storage;

/// <summary>
/// The storage client retries writes, so a write that committed but lost its answer comes back refused by its own
/// retry (409 on an insert, 412 on an update). The body written to a blob for that row must survive.
/// </summary>
public sealed class CommittedButRefusedWriteTests
{
    [Fact]
    public async Task Snapshot_whose_insert_committed_but_answered_conflict_keeps_its_large_body_readable()
    {
        var tables = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("cr"));
        var store = new CommitThenRefuseOnce(tables);
        var ledger = new ReturnLedger(store, await AzuriteTestServer.CreateBlobStoreAsync(), new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero)));
        var body = new byte[BodyStore.InlineMaxBytes * 3]; // large enough to live in a blob
        Random.Shared.NextBytes(body);
        var returnId = "refused-" + Guid.NewGuid().ToString("N");

        await ledger.AdvanceSnapshotAsync(returnId, new DateTimeOffset(2026, 12, 1, 7, 0, 0, TimeSpan.Zero), "open", body, CancellationToken.None);
        var stored = await ledger.GetSnapshotAsync(returnId, CancellationToken.None);

        Assert.Equal(1, store.Refused);
        Assert.NotNull(stored);
        Assert.Equal(body, stored.Body.ToArray());
    }

    /// <summary>The first insert commits and then answers AlreadyExists, as the SDK's retry of a lost answer does.</summary>
    private sealed class CommitThenRefuseOnce(ITableStore inner) : ITableStore
    {
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public async Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken)
        {
            var outcome = await inner.InsertAsync(table, entity, cancellationToken);
            return outcome == InsertOutcome.Inserted && Interlocked.CompareExchange(ref _refused, 1, 0) == 0 ? InsertOutcome.AlreadyExists : outcome;
        }

        public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => inner.CreateTableIfNotExistsAsync(table, cancellationToken);

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpsertAsync(table, entity, mode, cancellationToken);

        public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpdateAsync(table, entity, mode, cancellationToken);

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => inner.QueryAsync(table, filter, cancellationToken);

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => inner.SubmitBatchAsync(table, operations, cancellationToken);
    }
}
