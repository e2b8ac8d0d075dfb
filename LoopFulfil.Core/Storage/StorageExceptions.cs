using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Table or Queue storage refused a request for a reason retrying cannot fix (bad input, auth, missing table).
/// </summary>
public class PermanentStorageException : PermanentIntegrationException
{
    public PermanentStorageException(string message, int? status, string? errorCode, Exception? innerException = null)
        : base(message, innerException!)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    public PermanentStorageException() : this("A storage request failed permanently.", null, null) { }

    public PermanentStorageException(string message) : this(message, null, null) { }

    public PermanentStorageException(string message, Exception innerException) : this(message, null, null, innerException) { }

    /// <summary>HTTP status, or null when the request was refused before it was sent.</summary>
    public int? Status { get; }

    /// <summary>The service's error code (e.g. <c>TableNotFound</c>), or a local code for checks made before sending.</summary>
    public string? ErrorCode { get; }
}

/// <summary>Table or Queue storage stayed unavailable (5xx, 408, timeouts, connection failures) after pipeline retries.</summary>
public class TransientStorageException : TransientIntegrationException
{
    public TransientStorageException(string message, int? status, string? errorCode, Exception? innerException = null)
        : base(message, innerException, null)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    public TransientStorageException() : this("A storage request failed transiently.", null, null) { }

    public TransientStorageException(string message) : this(message, null, null) { }

    public TransientStorageException(string message, Exception innerException) : this(message, null, null, innerException) { }

    public int? Status { get; }

    public string? ErrorCode { get; }
}

/// <summary>
/// An entity breaks a Table Storage size limit (1 MiB per entity, 64 KiB per property, 1 KiB per escaped key).
/// Raised before sending where the size is computable, and for the service's own size errors.
/// </summary>
public sealed class TableEntityTooLargeException : PermanentStorageException
{
    public TableEntityTooLargeException(string table, string partitionKey, string rowKey, string detail, int? status, string? errorCode)
        : base($"Entity (PartitionKey '{partitionKey}', RowKey '{rowKey}') in table '{table}' is too large: {detail}", status, errorCode)
    {
        Table = table;
        PartitionKey = partitionKey;
        RowKey = rowKey;
    }

    public TableEntityTooLargeException() : this("", "", "", "size limit exceeded", null, null) { }

    public TableEntityTooLargeException(string message) : base(message)
    {
        Table = PartitionKey = RowKey = "";
    }

    public TableEntityTooLargeException(string message, Exception innerException) : base(message, innerException)
    {
        Table = PartitionKey = RowKey = "";
    }

    public string Table { get; }

    /// <summary>Raw (unescaped) partition key.</summary>
    public string PartitionKey { get; }

    /// <summary>Raw (unescaped) row key.</summary>
    public string RowKey { get; }
}

/// <summary>
/// A table batch was rejected as a whole (nothing was written). <see cref="PermanentStorageException.Status"/> is the
/// failing operation's status: 409 (insert of an existing entity), 412 (stale ETag), 404 (delete/update of a missing one).
/// </summary>
public sealed class TableBatchFailedException : PermanentStorageException
{
    public TableBatchFailedException(string message, int? status, string? errorCode, int? failedOperationIndex)
        : base(message, status, errorCode) => FailedOperationIndex = failedOperationIndex;

    public TableBatchFailedException() : this("A table batch failed.", null, null, null) { }

    public TableBatchFailedException(string message) : this(message, null, null, null) { }

    public TableBatchFailedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Zero-based index of the operation the service blamed, when it said.</summary>
    public int? FailedOperationIndex { get; }
}

/// <summary>
/// A received queue message's pop receipt no longer holds it: its visibility timeout ran out and it was received
/// again (or deleted). The holder must stop working on it; the new holder will process it.
/// </summary>
public sealed class QueueMessageLockLostException : PermanentStorageException
{
    public QueueMessageLockLostException(string message, int? status, string? errorCode) : base(message, status, errorCode) { }

    public QueueMessageLockLostException() : this("The queue message lock was lost.", null, null) { }

    public QueueMessageLockLostException(string message) : this(message, null, null) { }

    public QueueMessageLockLostException(string message, Exception innerException) : base(message, innerException) { }
}
