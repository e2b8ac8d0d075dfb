using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using SdkEntity = Azure.Data.Tables.TableEntity;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// <see cref="ITableStore"/> on Azure.Data.Tables. What the SDK leaves to us: key escaping (<see cref="TableKey"/>),
/// decimals, size checks with names (<see cref="TableEntityConversion"/>), and the outcomes the callers decide on
/// (insert conflict, ETag mismatch, not found) instead of exceptions.
/// </summary>
public sealed partial class AzureTableStore : ITableStore
{
    private const string Service = "Table storage";
    private const int MaxBatchOperations = 100;

    private readonly TableServiceClient _service;
    private readonly string _tablePrefix;

    /// <param name="account">Endpoint and credentials.</param>
    /// <param name="tablePrefix">Prepended to every table name (isolates deployments or test runs sharing an account).</param>
    /// <param name="clientOptions">Retry and timeout settings; defaults suit Functions.</param>
    public AzureTableStore(StorageAccount account, string? tablePrefix = null, StorageClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _service = account.CreateTableService(clientOptions);
        _tablePrefix = tablePrefix ?? "";
    }

    /// <summary>Prepended to every table name (tests scanning every table of one run list them by it).</summary>
    public string TablePrefix => _tablePrefix;

    /// <summary>Size limits are checked locally before sending; tests switch this off to exercise the service's own errors.</summary>
    internal bool CheckSizesBeforeSending { get; set; } = true;

    public async Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken)
    {
        var name = TableName(table);
        try
        {
            await _service.CreateTableIfNotExistsAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409 && ex.ErrorCode != "TableBeingDeleted")
        {
            // Created concurrently by someone else: still the table we want.
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"create table '{name}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var client = Client(table, out var name);
        try
        {
            var response = await client.GetEntityAsync<SdkEntity>(TableKey.Escape(partitionKey), TableKey.Escape(rowKey), cancellationToken: cancellationToken).ConfigureAwait(false);
            return TableEntityConversion.FromSdk(response.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode != "TableNotFound")
        {
            return null;
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"get ({partitionKey}, {rowKey}) from '{name}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new entity's ETag.</remarks>
    public async Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var client = Client(table, out var name);
        var sdk = ToSdk(name, entity);
        try
        {
            var response = await client.AddEntityAsync(sdk, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag?.ToString();
            return InsertOutcome.Inserted;
        }
        catch (RequestFailedException ex) when (ex.Status == 409 && ex.ErrorCode != "TableBeingDeleted")
        {
            return InsertOutcome.AlreadyExists;
        }
        catch (Exception ex) when (Failure(ex, $"insert into '{name}'", entity, name, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new ETag.</remarks>
    public async Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        // Without If-Match the service inserts or overwrites: the only outcomes are success or an exception.
        await WriteAsync(table, entity, mode, ifMatch: null, cancellationToken).ConfigureAwait(false);
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new ETag.</remarks>
    public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (string.IsNullOrEmpty(entity.ETag))
        {
            throw new ArgumentException("UpdateAsync needs the ETag read with the entity (or \"*\" to overwrite whatever is there).", nameof(entity));
        }

        return WriteAsync(table, entity, mode, entity.ETag, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var client = Client(table, out var name);
        Response response;
        try
        {
            // The SDK answers a missing entity with its 404 response rather than an exception.
            response = await client.DeleteEntityAsync(TableKey.Escape(partitionKey), TableKey.Escape(rowKey), ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"delete ({partitionKey}, {rowKey}) from '{name}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        if (response.Status != 404)
        {
            return true;
        }

        var code = StorageFailures.CodeOf(response);
        return code == "TableNotFound"
            ? throw new PermanentStorageException($"{Service} could not delete ({partitionKey}, {rowKey}) from '{name}': 404 {code}", 404, code)
            : false;
    }

    /// <summary>Pages of up to 1,000 entities, fetched lazily: the next page is requested only when the caller reaches it.</summary>
    /// <param name="filter">An OData filter, best built with <see cref="TableFilter"/> (it escapes keys); null for all.</param>
    public async IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = Client(table, out var name);
        var pages = client.QueryAsync<SdkEntity>(string.IsNullOrWhiteSpace(filter) ? null : filter, cancellationToken: cancellationToken).AsPages();
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            Page<SdkEntity> page;
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                page = enumerator.Current;
            }
            catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"query '{name}'", cancellationToken) is { } mapped)
            {
                throw mapped;
            }

            foreach (var entity in page.Values)
            {
                yield return TableEntityConversion.FromSdk(entity);
            }
        }
    }

    /// <summary>
    /// One entity group transaction: all operations succeed or none does. Insert fails the batch on an existing
    /// entity (409); Delete uses the entity's ETag when set (else "*"). Throws <see cref="TableBatchFailedException"/>.
    /// On success, written entities get their new ETags.
    /// </summary>
    public async Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            return;
        }

        var client = Client(table, out var name);
        if (operations.Count > MaxBatchOperations)
        {
            throw new ArgumentException($"A table batch holds at most {MaxBatchOperations} operations; got {operations.Count}.", nameof(operations));
        }

        var partition = operations[0].Entity.PartitionKey;
        var rows = new HashSet<string>(StringComparer.Ordinal);
        var actions = new List<TableTransactionAction>(operations.Count);
        foreach (var op in operations)
        {
            if (!string.Equals(op.Entity.PartitionKey, partition, StringComparison.Ordinal))
            {
                throw new ArgumentException($"A table batch must stay in one partition; got '{partition}' and '{op.Entity.PartitionKey}'.", nameof(operations));
            }

            if (!rows.Add(op.Entity.RowKey))
            {
                throw new ArgumentException($"A table batch may touch each entity once; RowKey '{op.Entity.RowKey}' appears twice.", nameof(operations));
            }

            actions.Add(op.Action switch
            {
                TableBatchAction.Insert => new TableTransactionAction(TableTransactionActionType.Add, ToSdk(name, op.Entity)),
                TableBatchAction.UpsertMerge => new TableTransactionAction(TableTransactionActionType.UpsertMerge, ToSdk(name, op.Entity)),
                TableBatchAction.UpsertReplace => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToSdk(name, op.Entity)),
                TableBatchAction.Delete => new TableTransactionAction(
                    TableTransactionActionType.Delete,
                    new SdkEntity(TableKey.Escape(op.Entity.PartitionKey), TableKey.Escape(op.Entity.RowKey)),
                    new ETag(op.Entity.ETag ?? "*")),
                _ => throw new ArgumentOutOfRangeException(nameof(operations), op.Action, "Unknown batch action."),
            });
        }

        IReadOnlyList<Response> results;
        try
        {
            results = (await client.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is not (0 or 408 or 429 or >= 500))
        {
            var index = ex.FailedTransactionActionIndex;
            var blamed = index is { } i && i < operations.Count ? $" (operation {i}: {operations[i].Action} RowKey '{operations[i].Entity.RowKey}')" : "";
            throw new TableBatchFailedException(
                $"Batch of {operations.Count} in '{name}' partition '{partition}' was rejected{blamed}: {ex.Status} {ex.ErrorCode}", ex.Status, ex.ErrorCode, index);
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"submit a batch of {operations.Count} to '{name}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        for (var i = 0; i < operations.Count && i < results.Count; i++)
        {
            if (results[i].Headers.ETag is { } etag)
            {
                operations[i].Entity.ETag = etag.ToString();
            }
        }
    }

    private async Task<UpdateOutcome> WriteAsync(string table, TableEntity entity, UpsertMode mode, string? ifMatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var client = Client(table, out var name);
        var sdk = ToSdk(name, entity);
        var sdkMode = mode == UpsertMode.Merge ? TableUpdateMode.Merge : TableUpdateMode.Replace;
        try
        {
            var response = ifMatch is null
                ? await client.UpsertEntityAsync(sdk, sdkMode, cancellationToken).ConfigureAwait(false)
                : await client.UpdateEntityAsync(sdk, new ETag(ifMatch), sdkMode, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag?.ToString();
            return UpdateOutcome.Updated;
        }
        catch (RequestFailedException ex) when (ifMatch is not null && ex.Status == 412)
        {
            return UpdateOutcome.PreconditionFailed;
        }
        catch (RequestFailedException ex) when (ifMatch is not null && ex.Status == 404 && ex.ErrorCode != "TableNotFound")
        {
            return UpdateOutcome.NotFound;
        }
        catch (Exception ex) when (Failure(ex, $"{(ifMatch is null ? "upsert" : "update")} ({entity.PartitionKey}, {entity.RowKey}) in '{name}'", entity, name, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private SdkEntity ToSdk(string table, TableEntity entity)
    {
        if (CheckSizesBeforeSending)
        {
            TableEntityConversion.CheckLimits(table, entity);
        }

        return TableEntityConversion.ToSdk(entity);
    }

    private static Exception? Failure(Exception ex, string what, TableEntity entity, string table, CancellationToken cancellationToken)
    {
        if (ex is RequestFailedException rfe && (rfe.ErrorCode is "EntityTooLarge" or "PropertyValueTooLarge" or "RequestBodyTooLarge" || rfe.Status == 413))
        {
            return new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"the service said {rfe.Status} {rfe.ErrorCode}", rfe.Status, rfe.ErrorCode);
        }

        return StorageFailures.Translate(ex, Service, what, cancellationToken);
    }

    private TableClient Client(string table, out string name)
    {
        name = TableName(table);
        return _service.GetTableClient(name);
    }

    private string TableName(string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        var name = _tablePrefix + table;
        if (!TableNameRegex().IsMatch(name) || string.Equals(name, "tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{name}' is not a valid table name (a letter, then 2–62 letters or digits).", nameof(table));
        }

        return name;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableNameRegex();
}
