using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>
/// Simulates a crash between the Fulfil create and the ledger's "done" record: the first time the named step is
/// about to be marked done, the write fails as a dropped connection would.
/// </summary>
internal sealed class FailStepDoneOnceStore(ITableStore inner, string step) : ITableStore
{
    private int _failed;

    public int Failures => Volatile.Read(ref _failed);

    public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        if (table == ReturnLedger.Table && entity.RowKey == "step:" + step && entity.GetString("Status") == StepStatus.Done
            && Interlocked.CompareExchange(ref _failed, 1, 0) == 0)
        {
            throw new TransientIntegrationException("Injected crash: the process died before recording the step.");
        }

        return inner.UpdateAsync(table, entity, mode, cancellationToken);
    }

    public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => inner.CreateTableIfNotExistsAsync(table, cancellationToken);

    public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

    public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => inner.InsertAsync(table, entity, cancellationToken);

    public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpsertAsync(table, entity, mode, cancellationToken);

    public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

    public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => inner.QueryAsync(table, filter, cancellationToken);

    public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => inner.SubmitBatchAsync(table, operations, cancellationToken);
}
