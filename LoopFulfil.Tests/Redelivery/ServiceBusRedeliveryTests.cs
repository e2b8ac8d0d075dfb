using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Tests.Functions;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Redelivery;

/// <summary>
/// The Functions side: a transient failure becomes a scheduled Service Bus message in the same session, and a
/// message read from a dead-letter subqueue becomes a replayable exception record (Azurite tables, no Service Bus).
/// </summary>
public sealed class ServiceBusRedeliveryTests
{
    [Fact]
    public async Task Transient_failure_sends_a_scheduled_copy_in_the_same_session_through_the_service_bus_sender()
    {
        var links = new ConcurrentDictionary<string, ScriptedQueueSender>();
        var sender = new ServiceBusMessageSender(q => links.GetOrAdd(q, _ => new ScriptedQueueSender()), NullLogger<ServiceBusMessageSender>.Instance);
        var parts = await RedeliveryParts.CreateAsync(new RedeliveryOptions { BaseDelay = TimeSpan.FromSeconds(10) }, (_, _, _) => sender);
        var message = new InboundMessage("{\"id\":\"7001\"}"u8.ToArray(), "evt-7001", "7001", 2, new Dictionary<string, string> { ["trigger"] = "return.updated" });

        var outcome = await parts.Redelivery.HandleAsync(
            QueueNames.LoopReturns, message, (_, _) => throw new TransientIntegrationException("Fulfil circuit open", null, TimeSpan.FromSeconds(30)), CancellationToken.None);

        var scheduled = Assert.Single(links[QueueNames.LoopReturns].Sent);
        Assert.Equal(RedeliveryOutcome.Rescheduled, outcome);
        Assert.Equal(("evt-7001~r1", "7001"), (scheduled.MessageId, scheduled.SessionId));
        Assert.Equal(RedeliveryParts.Start.AddSeconds(30), scheduled.ScheduledEnqueueTime);
        Assert.Equal("2", scheduled.ApplicationProperties[MessageRedelivery.AttemptsProperty]);
    }

    [Fact]
    public async Task Copy_that_cannot_be_scheduled_lets_the_original_failure_escape_for_service_bus_to_redeliver()
    {
        var sender = new ServiceBusMessageSender(_ => new ScriptedQueueSender { Failure = new InvalidOperationException("link detached") }, NullLogger<ServiceBusMessageSender>.Instance);
        var parts = await RedeliveryParts.CreateAsync(new RedeliveryOptions(), (_, _, _) => sender);
        var message = new InboundMessage("{}"u8.ToArray(), "evt-1", null, 1, new Dictionary<string, string>());
        var failure = new TransientIntegrationException("Fulfil answered 503");

        var thrown = await Assert.ThrowsAsync<TransientIntegrationException>(() =>
            parts.Redelivery.HandleAsync(QueueNames.LoopExchanges, message, (_, _) => throw failure, CancellationToken.None));

        Assert.Same(failure, thrown);
        Assert.Empty(await parts.RecordsAsync());
    }

    [Fact]
    public async Task Dead_lettered_repair_message_becomes_a_record_that_replays_as_a_routable_event_under_a_fresh_id()
    {
        var replays = new RecordingSender();
        var parts = await RedeliveryParts.CreateAsync(new RedeliveryOptions(), (_, _, _) => replays);
        var body = Encoding.UTF8.GetBytes("{\"id\":7002,\"state\":\"closed\",\"updated_at\":\"2026-03-01T10:00:00+00:00\"}");
        var properties = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["topic"] = "return",
            ["trigger"] = "return.closed",
            ["returnId"] = "7002",
            [DeadLetterRecorder.DeadLetterReasonProperty] = "MaxDeliveryCountExceeded",
            [DeadLetterRecorder.DeadLetterErrorDescriptionProperty] = "Message could not be consumed after 10 delivery attempts.",
        });
        var function = new DeadLetterFunctions(parts.Recorder);

        await function.LoopReturns(body, TestFunctionContext.ForServiceBus("reconcile-run-7002", "7002", 10, properties));

        var listed = Assert.Single(await parts.RecordsAsync());
        var replay = await parts.Exceptions.ReplayAsync(listed.Id, CancellationToken.None);
        var sent = Assert.Single(replays.Sent);
        Assert.Equal((ExceptionCategory.DeadLettered, "7002"), (listed.Category, listed.ReturnId));
        Assert.Contains("MaxDeliveryCountExceeded", listed.Message, StringComparison.Ordinal);
        Assert.Equal(ReplayOutcome.Replayed, replay.Outcome);
        Assert.Equal((QueueNames.LoopReturns, "7002", replay.MessageId), (sent.Queue, sent.SessionId, sent.MessageId));
        Assert.NotEqual("reconcile-run-7002", sent.MessageId);
        Assert.Equal("return.closed", sent.Properties["trigger"]);
        using var replayed = JsonDocument.Parse(sent.Body);
        Assert.Equal("closed", replayed.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Dead_lettered_exchange_message_is_recorded_with_its_body_and_replays_onto_its_queue()
    {
        var replays = new RecordingSender();
        var parts = await RedeliveryParts.CreateAsync(new RedeliveryOptions(), (_, _, _) => replays);
        var body = Encoding.UTF8.GetBytes("{\"ReturnId\":\"7003\",\"ExchangeKey\":\"e1\"}");
        var properties = JsonSerializer.Serialize(new Dictionary<string, string> { ["returnId"] = "7003", [DeadLetterRecorder.DeadLetterReasonProperty] = "TTLExpiredException" });

        await new DeadLetterFunctions(parts.Recorder).LoopExchanges(body, TestFunctionContext.ForServiceBus("exchange-7003-e1", null, 1, properties));

        var listed = Assert.Single(await parts.RecordsAsync());
        var replay = await parts.Exceptions.ReplayAsync(listed.Id, CancellationToken.None);
        var sent = Assert.Single(replays.Sent);
        Assert.Equal(QueueNames.LoopExchanges, listed.ReplayQueue);
        Assert.Equal((QueueNames.LoopExchanges, replay.MessageId), (sent.Queue, sent.MessageId));
        Assert.NotEqual("exchange-7003-e1", sent.MessageId);
        Assert.True(sent.Body.Span.SequenceEqual(body));
    }

    /// <summary>Replays (everything but alerts, which the parts keep apart).</summary>
    private sealed class RecordingSender : IMessageSender
    {
        public ConcurrentQueue<OutboundMessage> Sent { get; } = new();

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            Sent.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
