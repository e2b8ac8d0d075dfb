namespace LoopFulfil.Core.Storage;

/// <summary>
/// Azure Queue Storage (Azurite on one machine): the durable local queue of the single-machine host.
/// Peek-lock semantics by visibility timeout: a received message reappears unless deleted in time.
/// </summary>
public interface IQueueStore
{
    Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken);

    Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken);

    /// <summary>Receives up to <paramref name="maxMessages"/> (1–32), hidden for <paramref name="visibilityTimeout"/>.</summary>
    Task<IReadOnlyList<QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>Completes a received message. False when the pop receipt is stale (it reappeared and was taken again).</summary>
    Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken);

    /// <summary>Extends (lock renewal) or ends (abandon: zero) the invisibility of a received message; returns the new pop receipt.</summary>
    Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>Approximate number of messages (visible or not).</summary>
    Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken);
}

/// <param name="MessageId">The store's own id (not the application MessageId, which travels in the body envelope).</param>
/// <param name="PopReceipt">Proof of this receipt, needed to delete or update.</param>
/// <param name="DequeueCount">1 on first receipt; the poison rule compares it with the maximum delivery count.</param>
/// <param name="Body">Decoded payload bytes.</param>
public sealed record QueueStoreMessage(string MessageId, string PopReceipt, int DequeueCount, ReadOnlyMemory<byte> Body);
