using System.Collections.Concurrent;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Redelivery;

/// <summary>Exception records, the dead-letter recorder and the backoff wrapper over isolated Azurite tables.</summary>
internal sealed class RedeliveryParts
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private RedeliveryParts(AzureTableStore tables, IBlobStore blobs, FakeTimeProvider clock, Func<AzureTableStore, ClaimCheck, TimeProvider, IMessageSender> sender, RedeliveryOptions options)
    {
        Tables = tables;
        Clock = clock;
        Claims = new ClaimCheck(blobs, clock);
        Sender = sender(tables, Claims, clock);
        Exceptions = new ExceptionService(tables, blobs, new AlertsApart(Alerts, Sender), new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), clock, NullLogger<ExceptionService>.Instance);
        Recorder = new DeadLetterRecorder(Exceptions, Claims, NullLogger<DeadLetterRecorder>.Instance);
        Redelivery = new MessageRedelivery(Sender, Recorder, new FixedOptionsMonitor<RedeliveryOptions>(options), clock, NullLogger<MessageRedelivery>.Instance);
    }

    public FakeTimeProvider Clock { get; }

    public AzureTableStore Tables { get; }

    public ClaimCheck Claims { get; }

    /// <summary>Alerts the exception service publishes (kept off the shared Azurite's queues).</summary>
    public RecordingMessageSender Alerts { get; } = new();

    public ExceptionService Exceptions { get; }

    public DeadLetterRecorder Recorder { get; }

    /// <summary>What the backoff and replays send through.</summary>
    public IMessageSender Sender { get; }

    public MessageRedelivery Redelivery { get; }

    /// <summary>Parts on tables of their own whose backoff sends through what <paramref name="sender"/> builds over their tables and clock.</summary>
    public static async Task<RedeliveryParts> CreateAsync(RedeliveryOptions options, Func<AzureTableStore, ClaimCheck, TimeProvider, IMessageSender> sender)
    {
        var tables = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("rd"));
        return new RedeliveryParts(tables, await AzuriteTestServer.CreateBlobStoreAsync(), new FakeTimeProvider(Start), sender, options);
    }

    public async Task<List<ExceptionRecord>> RecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (var record in Exceptions.ListAsync(null, null, CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }

    /// <summary>Alerts to the recording sender, everything else (replays) to the sender under test.</summary>
    private sealed class AlertsApart(IMessageSender alerts, IMessageSender others) : IMessageSender
    {
        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            (message.Queue == QueueNames.Exceptions ? alerts : others).SendAsync(message, cancellationToken);
    }
}

/// <summary>
/// Azure Queue Storage (Azurite) that records the initial visibility delay of every send and every delete. With
/// <see cref="SendDelaysToStore"/> off, sends go out visible at once, so a test can follow a backoff chain without
/// waiting it out; the delays asked for are still recorded.
/// </summary>
internal sealed class DelayRecordingQueueStore(IQueueStore inner) : IQueueStore
{
    public bool SendDelaysToStore { get; init; } = true;

    public ConcurrentQueue<(string Queue, ReadOnlyMemory<byte> Body, TimeSpan? Delay)> Sends { get; } = new();

    public ConcurrentQueue<(string Queue, string StoreId)> Deletes { get; } = new();

    public Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken) => inner.CreateQueueIfNotExistsAsync(queue, cancellationToken);

    public async Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken)
    {
        await inner.SendAsync(queue, body, SendDelaysToStore ? initialVisibilityDelay : null, cancellationToken);
        Sends.Enqueue((queue, body, initialVisibilityDelay));
    }

    public Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
        inner.ReceiveAsync(queue, maxMessages, visibilityTimeout, cancellationToken);

    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        var deleted = await inner.DeleteAsync(queue, messageId, popReceipt, cancellationToken);
        Deletes.Enqueue((queue, messageId));
        return deleted;
    }

    public Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
        inner.UpdateVisibilityAsync(queue, messageId, popReceipt, visibilityTimeout, cancellationToken);

    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => inner.GetApproximateCountAsync(queue, cancellationToken);
}
