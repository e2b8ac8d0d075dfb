namespace LoopFulfil.LocalHost;

// One received store message as the dispatcher holds it, from receipt until it is deleted or released.
public sealed partial class QueueDispatcher
{
    // Delivery states: received and waiting its turn, handler running (or retrying), deleted or released.
    private const int Waiting = 0;
    private const int Running = 1;
    private const int Settled = 2;

    private sealed class Delivery(string storeId, long sequence, LocalQueueEnvelope? envelope, string? decodeError, ReadOnlyMemory<byte> rawBody)
    {
        public string StoreId { get; } = storeId;

        public long Sequence { get; } = sequence;

        public LocalQueueEnvelope? Envelope { get; } = envelope;

        public string? DecodeError { get; } = decodeError;

        public ReadOnlyMemory<byte> RawBody { get; } = rawBody;

        /// <summary>Serialises store calls on this message so a renewal never invalidates the receipt a delete uses.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public required string PopReceipt { get; set; }

        public required int DequeueCount { get; set; }

        public required DateTimeOffset LockedUntil { get; set; }

        public bool ReceiptValid { get; set; } = true;

        public int LocalRetries { get; set; }

        private int _state;

        public int State => Volatile.Read(ref _state);

        public bool TryMove(int from, int to) => Interlocked.CompareExchange(ref _state, to, from) == from;

        /// <returns>The state before.</returns>
        public int MoveToSettled() => Interlocked.Exchange(ref _state, Settled);
    }
}
