using System.Text;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.LocalHost;

/// <summary>Shared settings and helpers for the single-machine host tests on Azurite.</summary>
internal static class LocalHostTestSupport
{
    /// <summary>Short lock and polling so tests run in seconds; no retry backoff unless a test asks for it.</summary>
    public static LocalHostOptions FastOptions(Action<LocalHostOptions>? change = null)
    {
        var options = new LocalHostOptions
        {
            Partitions = 4,
            MaxDeliveryCount = 10,
            VisibilityTimeoutSeconds = 2,
            PollIntervalMilliseconds = 50,
            ShutdownGraceSeconds = 10,
            MaxRetryBackoffSeconds = 0,
            DuplicateDetectionWindowHours = 24,
        };
        change?.Invoke(options);
        return options;
    }

    /// <summary>The enqueue time the test envelopes carry (data only: the dispatcher does not read it).</summary>
    public static readonly DateTimeOffset EnqueuedAt = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    public static Task SendEnvelopeAsync(IQueueStore store, string queue, string messageId, string? sessionId, string body, IReadOnlyDictionary<string, string>? properties = null) =>
        store.SendAsync(
            queue,
            new LocalQueueEnvelope(messageId, sessionId, properties ?? new Dictionary<string, string>(), Encoding.UTF8.GetBytes(body), EnqueuedAt).Encode(),
            null,
            CancellationToken.None);

    /// <summary>Polls until <paramref name="condition"/> holds (the dispatcher runs on real time; see <see cref="HangGuard"/>).</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what) => HangGuard.UntilAsync(condition, what);

    /// <summary>Reads every message of a queue without removing any (receives, then makes them visible again).</summary>
    public static async Task<List<LocalQueueEnvelope>> PeekAllAsync(IQueueStore store, string queue)
    {
        var received = await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(5), CancellationToken.None);
        var result = new List<LocalQueueEnvelope>();
        foreach (var message in received)
        {
            Assert.True(LocalQueueEnvelope.TryDecode(message.Body, out var envelope, out var error), error);
            result.Add(envelope!);
            await store.UpdateVisibilityAsync(queue, message.MessageId, message.PopReceipt, TimeSpan.Zero, CancellationToken.None);
        }

        return result;
    }
}
