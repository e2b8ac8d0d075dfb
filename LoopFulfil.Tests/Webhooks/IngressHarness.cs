using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>Builds a <see cref="WebhookIngress"/> the way the hosts get it, over a given table store.</summary>
internal static class IngressHarness
{
    public static WebhookIngress Create(
        ITableStore table,
        IMessageSender? alerts = null,
        string secret = WebhookTestKit.Secret,
        string secondarySecret = "",
        int? maxBodyBytes = null,
        TimeProvider? time = null,
        IBlobStore? blobs = null)
    {
        var exceptions = new ExceptionService(
            table,
            blobs ?? new NoBlobsAllowed(),
            alerts ?? new RecordingMessageSender(),
            new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()),
            time ?? TimeProvider.System,
            NullLogger<ExceptionService>.Instance);
        var options = new WebhookOptions { Secret = secret, SecondarySecret = secondarySecret, MaxBodyBytes = maxBodyBytes ?? new WebhookOptions().MaxBodyBytes, RetryAfterSeconds = 120 };
        return new WebhookIngress(new FixedOptionsMonitor<WebhookOptions>(options), exceptions, NullLogger<WebhookIngress>.Instance, time: time);
    }

    public static WebhookRequest Request(byte[] body, string? signature, bool declareLength = true) =>
        new(new MemoryStream(body, writable: false), signature, declareLength ? body.Length : null);
}

/// <summary>
/// A table store for tests of events that must be routed without any storage I/O: any call fails the test.
/// (Parking, which does use storage, is tested against Azurite.)
/// </summary>
internal sealed class NoStorageAllowed : ITableStore
{
    private static InvalidOperationException Used() => new InvalidOperationException("Routed webhooks must not touch Table Storage on the request path.");

    public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => throw Used();

    public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => throw Used();

    public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => throw Used();

    public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Used();

    public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Used();

    public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => throw Used();

    public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => throw Used();

    public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => throw Used();
}

/// <summary>A blob store for ingress tests whose bodies must stay inline or never be stored: any call fails the test.</summary>
internal sealed class NoBlobsAllowed : IBlobStore
{
    private static InvalidOperationException Used() => new InvalidOperationException("This test expects no Blob storage I/O.");

    public Task UploadAsync(string container, string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken) => throw Used();

    public Task<byte[]?> DownloadAsync(string container, string name, CancellationToken cancellationToken) => throw Used();

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken) => throw Used();

    public IAsyncEnumerable<StoredBlob> ListAsync(string container, string? prefix, CancellationToken cancellationToken) => throw Used();
}
