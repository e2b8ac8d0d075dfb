using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Where the Table, Queue and Blob services are and how to authenticate to them: a connection string (account key;
/// Azurite locally) or a <see cref="TokenCredential"/> (managed identity) with the service URIs. The stores get their
/// Azure SDK clients here, so authentication is decided in one place; parsing and signing are the SDKs' own.
/// </summary>
public sealed class StorageAccount
{
    private readonly string? _connectionString;
    private readonly TokenCredential? _credential;

    private StorageAccount(string? connectionString, TokenCredential? credential, Uri? tableEndpoint, Uri? queueEndpoint, Uri? blobEndpoint)
    {
        _connectionString = connectionString;
        _credential = credential;
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
        BlobEndpoint = blobEndpoint;
    }

    /// <summary>Table service endpoint; null when not configured.</summary>
    public Uri? TableEndpoint { get; }

    /// <summary>Queue service endpoint; null when not configured.</summary>
    public Uri? QueueEndpoint { get; }

    /// <summary>Blob service endpoint (large bodies); null when not configured.</summary>
    public Uri? BlobEndpoint { get; }

    /// <summary>Whether requests carry bearer tokens (managed identity) rather than an account key.</summary>
    public bool UsesTokenCredential => _credential is not null;

    /// <summary>
    /// Account-key (or SAS) authentication from a connection string, parsed by the SDKs themselves
    /// (<c>UseDevelopmentStorage=true</c> is Azurite on its default ports).
    /// </summary>
    /// <exception cref="FormatException">The SDKs cannot use the string; the message never repeats the string (it holds the key).</exception>
    public static StorageAccount FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var table = Endpoint("table", () => new TableServiceClient(connectionString).Uri);
        var queue = Endpoint("queue", () => new QueueServiceClient(connectionString).Uri);
        var blob = Endpoint("blob", () => new BlobServiceClient(connectionString).Uri);
        return new StorageAccount(connectionString, null, table, queue, blob);
    }

    /// <summary>Bearer-token authentication (managed identity) against explicit https service URIs.</summary>
    public static StorageAccount FromTokenCredential(TokenCredential credential, Uri? tableEndpoint, Uri? queueEndpoint, Uri? blobEndpoint = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (tableEndpoint is null && queueEndpoint is null && blobEndpoint is null)
        {
            throw new ArgumentException("Token authentication needs at least one service endpoint.");
        }

        return new StorageAccount(null, credential, tableEndpoint, queueEndpoint, blobEndpoint);
    }

    internal TableServiceClient CreateTableService(StorageClientOptions? options)
    {
        var sdk = (options ?? new StorageClientOptions()).ApplyTo(new TableClientOptions());
        return _credential is null
            ? new TableServiceClient(_connectionString, sdk)
            : new TableServiceClient(Require(TableEndpoint, "Table"), _credential, sdk);
    }

    internal QueueServiceClient CreateQueueService(StorageClientOptions? options)
    {
        // Bodies are base64-encoded by the store itself, so text put there by other tools can still be read.
        var sdk = (options ?? new StorageClientOptions()).ApplyTo(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        return _credential is null
            ? new QueueServiceClient(_connectionString, sdk)
            : new QueueServiceClient(Require(QueueEndpoint, "Queue"), _credential, sdk);
    }

    internal BlobServiceClient CreateBlobService(StorageClientOptions? options)
    {
        var sdk = (options ?? new StorageClientOptions()).ApplyTo(new BlobClientOptions());
        return _credential is null
            ? new BlobServiceClient(_connectionString, sdk)
            : new BlobServiceClient(Require(BlobEndpoint, "Blob"), _credential, sdk);
    }

    private static Uri Require(Uri? endpoint, string service) => endpoint
        ?? throw new InvalidOperationException($"No {service} endpoint is configured (set Storage:{service}Endpoint or a connection string).");

    private static Uri Endpoint(string service, Func<Uri> create)
    {
        try
        {
            return create();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            // The SDK's message may quote the string, and with it the key: name only the part that failed.
            throw new FormatException($"The storage connection string does not give a usable {service} endpoint and credentials ({ex.GetType().Name}).");
        }
    }
}

/// <summary>
/// Retry and timeout settings applied to every storage SDK client: exponential retry of 408/429/5xx and network
/// failures, and a per-try timeout well below the Functions timeout.
/// </summary>
public sealed class StorageClientOptions : Azure.Core.ClientOptions
{
    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromMilliseconds(400);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Diagnostics.IsLoggingContentEnabled = false;
    }

    internal T ApplyTo<T>(T target) where T : Azure.Core.ClientOptions
    {
        target.Retry.Mode = Retry.Mode;
        target.Retry.MaxRetries = Retry.MaxRetries;
        target.Retry.Delay = Retry.Delay;
        target.Retry.MaxDelay = Retry.MaxDelay;
        target.Retry.NetworkTimeout = Retry.NetworkTimeout;
        target.Transport = Transport;
        target.Diagnostics.IsLoggingContentEnabled = false;
        return target;
    }
}
