using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Tests.Webhooks;

namespace LoopFulfil.Tests.Redelivery;

/// <summary>
/// Shadow mode through the queue entry path (issue #18): a handler that planned a write (any queue, e.g. exchanges)
/// is done in shadow, so nothing is retried or dead-lettered that a replay after going live could turn into a write
/// the existing process already made.
/// </summary>
public sealed class ShadowRedeliveryTests
{
    [Fact]
    public async Task Message_whose_handler_planned_a_shadow_write_is_completed_in_shadow_without_retry_or_exception_record()
    {
        var sent = new RecordingMessageSender();
        var parts = await RedeliveryParts.CreateAsync(new RedeliveryOptions(), (_, _, _) => sent);
        var message = new InboundMessage("{\"id\":\"7003\"}"u8.ToArray(), "evt-7003", "7003", 3, new Dictionary<string, string> { ["trigger"] = "return.closed" });
        var write = new PlannedWrite("Fulfil", "sale.sale", "create", null, "7003", "LOOP-7003-EXC", 40.00m, "[]", RedeliveryParts.Start);

        var outcome = await parts.Redelivery.HandleAsync(
            QueueNames.LoopExchanges, message, (_, _) => throw new InvalidOperationException("exchange order failed", new ShadowWritePlannedException(write)), CancellationToken.None);

        Assert.Equal(RedeliveryOutcome.CompletedInShadow, outcome);
        Assert.Empty(sent.Sent);
        Assert.Empty(parts.Alerts.Sent);
        Assert.Empty(await parts.RecordsAsync());
    }
}
