using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Storage;

/// <summary>The queue adapter against a real Azurite.</summary>
public class AzureQueueStoreTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    // Generous: a 1 s visibility timeout may take much longer to lapse on a loaded 2-core machine.
    private static readonly TimeSpan ReappearWithin = TimeSpan.FromSeconds(60);

    private static async Task<(AzureQueueStore Store, string Queue)> NewQueueAsync()
    {
        var store = await AzuriteTestServer.CreateQueueStoreAsync();
        var queue = AzuriteTestServer.UniqueQueueName();
        await store.CreateQueueIfNotExistsAsync(queue, Ct);
        return (store, queue);
    }

    private static async Task<QueueStoreMessage> ReceiveOneEventuallyAsync(AzureQueueStore store, string queue, TimeSpan visibility)
    {
        using var deadline = new CancellationTokenSource(ReappearWithin);
        while (true)
        {
            var messages = await store.ReceiveAsync(queue, 1, visibility, Ct);
            if (messages.Count == 1)
            {
                return messages[0];
            }

            await Task.Delay(200, deadline.Token);
        }
    }

    [Fact]
    public async Task Sent_body_is_received_byte_for_byte_with_dequeue_count_one()
    {
        var (store, queue) = await NewQueueAsync();
        var body = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        await store.SendAsync(queue, body, null, Ct);
        var received = await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30), Ct);

        var message = Assert.Single(received);
        Assert.Equal(body, message.Body.ToArray());
        Assert.Equal(1, message.DequeueCount);
        Assert.False(string.IsNullOrEmpty(message.MessageId));
        Assert.False(string.IsNullOrEmpty(message.PopReceipt));
    }

    [Fact]
    public async Task Create_queue_twice_is_not_an_error_and_count_tracks_messages()
    {
        var (store, queue) = await NewQueueAsync();

        await store.CreateQueueIfNotExistsAsync(queue, Ct);
        await store.SendAsync(queue, "a"u8.ToArray(), null, Ct);
        await store.SendAsync(queue, "b"u8.ToArray(), null, Ct);

        Assert.Equal(2, await store.GetApproximateCountAsync(queue, Ct));
    }

    [Fact]
    public async Task Receive_takes_at_most_the_requested_number_and_hides_them()
    {
        var (store, queue) = await NewQueueAsync();
        for (var i = 0; i < 5; i++)
        {
            await store.SendAsync(queue, new[] { (byte)i }, null, Ct);
        }

        var first = await store.ReceiveAsync(queue, 3, TimeSpan.FromMinutes(5), Ct);
        var second = await store.ReceiveAsync(queue, 32, TimeSpan.FromMinutes(5), Ct);
        var third = await store.ReceiveAsync(queue, 32, TimeSpan.FromMinutes(5), Ct);

        Assert.Equal(3, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(third);
        Assert.Equal(5, first.Concat(second).Select(m => m.Body.Span[0]).Distinct().Count());
    }

    [Fact]
    public async Task Message_not_deleted_reappears_after_the_visibility_timeout_with_dequeue_count_incremented()
    {
        var (store, queue) = await NewQueueAsync();
        await store.SendAsync(queue, "order-1"u8.ToArray(), null, Ct);

        var first = Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(1), Ct));
        var again = await ReceiveOneEventuallyAsync(store, queue, TimeSpan.FromSeconds(30));

        Assert.Equal(first.MessageId, again.MessageId);
        Assert.Equal(1, first.DequeueCount);
        Assert.Equal(2, again.DequeueCount);
        Assert.NotEqual(first.PopReceipt, again.PopReceipt);
        Assert.Equal("order-1"u8.ToArray(), again.Body.ToArray());
    }

    [Fact]
    public async Task Delete_with_a_stale_pop_receipt_returns_false_and_the_current_holder_deletes_it()
    {
        var (store, queue) = await NewQueueAsync();
        await store.SendAsync(queue, "x"u8.ToArray(), null, Ct);
        var first = Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(1), Ct));
        var second = await ReceiveOneEventuallyAsync(store, queue, TimeSpan.FromSeconds(30));

        var staleDelete = await store.DeleteAsync(queue, first.MessageId, first.PopReceipt, Ct);
        var currentDelete = await store.DeleteAsync(queue, second.MessageId, second.PopReceipt, Ct);
        var repeatDelete = await store.DeleteAsync(queue, second.MessageId, second.PopReceipt, Ct);

        Assert.False(staleDelete);
        Assert.True(currentDelete);
        Assert.False(repeatDelete);
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, Ct));
    }

    [Fact]
    public async Task Update_visibility_extends_the_lock_and_only_the_new_receipt_deletes()
    {
        var (store, queue) = await NewQueueAsync();
        await store.SendAsync(queue, "x"u8.ToArray(), null, Ct);
        var received = Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(1), Ct));

        var renewed = await store.UpdateVisibilityAsync(queue, received.MessageId, received.PopReceipt, TimeSpan.FromMinutes(5), Ct);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // past the original 1 s timeout, far inside the renewed 5 min
        var whileHeld = await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30), Ct);

        Assert.Empty(whileHeld);
        Assert.NotEqual(received.PopReceipt, renewed);
        Assert.False(await store.DeleteAsync(queue, received.MessageId, received.PopReceipt, Ct));
        Assert.True(await store.DeleteAsync(queue, received.MessageId, renewed, Ct));
    }

    [Fact]
    public async Task Update_visibility_to_zero_abandons_the_message_for_immediate_redelivery()
    {
        var (store, queue) = await NewQueueAsync();
        await store.SendAsync(queue, "x"u8.ToArray(), null, Ct);
        var received = Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromMinutes(5), Ct));

        await store.UpdateVisibilityAsync(queue, received.MessageId, received.PopReceipt, TimeSpan.Zero, Ct);
        var redelivered = await ReceiveOneEventuallyAsync(store, queue, TimeSpan.FromMinutes(5));

        Assert.Equal(received.MessageId, redelivered.MessageId);
        Assert.Equal(2, redelivered.DequeueCount);
    }

    [Fact]
    public async Task Update_visibility_with_a_stale_receipt_reports_the_lock_lost()
    {
        var (store, queue) = await NewQueueAsync();
        await store.SendAsync(queue, "x"u8.ToArray(), null, Ct);
        var first = Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(1), Ct));
        var second = await ReceiveOneEventuallyAsync(store, queue, TimeSpan.FromMinutes(5));

        var ex = await Assert.ThrowsAsync<QueueMessageLockLostException>(
            () => store.UpdateVisibilityAsync(queue, first.MessageId, first.PopReceipt, TimeSpan.FromMinutes(1), Ct));

        Assert.Contains(first.MessageId, ex.Message, StringComparison.Ordinal);
        Assert.True(await store.DeleteAsync(queue, second.MessageId, second.PopReceipt, Ct));
    }

    [Fact]
    public async Task Initial_visibility_delay_keeps_a_new_message_hidden()
    {
        var (store, queue) = await NewQueueAsync();

        await store.SendAsync(queue, "later"u8.ToArray(), TimeSpan.FromMinutes(10), Ct);
        await store.SendAsync(queue, "now"u8.ToArray(), null, Ct);
        var visible = await store.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30), Ct);

        Assert.Equal("now"u8.ToArray(), Assert.Single(visible).Body.ToArray());
        Assert.Equal(2, await store.GetApproximateCountAsync(queue, Ct));
    }

    [Fact]
    public async Task Message_over_the_size_limit_is_refused_with_a_clear_error()
    {
        var (store, queue) = await NewQueueAsync();

        var ex = await Assert.ThrowsAsync<PermanentStorageException>(() => store.SendAsync(queue, new byte[50_000], null, Ct));

        Assert.Contains(queue, ex.Message, StringComparison.Ordinal);
        Assert.Contains("50000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.GetApproximateCountAsync(queue, Ct));
    }

    [Fact]
    public async Task Largest_allowed_message_round_trips()
    {
        var (store, queue) = await NewQueueAsync();
        var body = new byte[48 * 1024];
        new Random(7).NextBytes(body);

        await store.SendAsync(queue, body, null, Ct);

        Assert.Equal(body, Assert.Single(await store.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(30), Ct)).Body.ToArray());
    }

    [Fact]
    public async Task Receive_from_a_missing_queue_is_a_permanent_error()
    {
        var store = await AzuriteTestServer.CreateQueueStoreAsync();
        var missing = AzuriteTestServer.UniqueQueueName("missing");

        var ex = await Assert.ThrowsAsync<PermanentStorageException>(() => store.ReceiveAsync(missing, 1, TimeSpan.FromSeconds(30), Ct));

        Assert.Equal(404, ex.Status);
        Assert.Equal("QueueNotFound", ex.ErrorCode);
    }
}
