using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;

namespace LoopFulfil.Tests.Redelivery;

/// <summary>The "retry later with delay D, or park" rule and the rescheduled copy, without any transport.</summary>
public sealed class RedeliveryPolicyTests
{
    private static readonly RedeliveryOptions Options = new() { MaxAttempts = 6, BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(60) };

    [Fact]
    public void Delay_honours_the_retry_after_the_error_names_even_when_wrapped()
    {
        var failure = new InvalidOperationException("handler", new TransientIntegrationException("Fulfil answered 429", null, TimeSpan.FromSeconds(42)));

        var decision = RedeliveryPolicy.Decide(attempt: 1, failure, Options);

        Assert.Equal(RedeliveryDecision.RetryAfter(TimeSpan.FromSeconds(42)), decision);
    }

    [Fact]
    public void A_retry_after_or_circuit_break_time_longer_than_the_maximum_is_capped()
    {
        var circuitOpen = new TransientIntegrationException("Fulfil circuit open", null, TimeSpan.FromMinutes(5));

        Assert.Equal(RedeliveryDecision.RetryAfter(Options.MaxDelay), RedeliveryPolicy.Decide(2, circuitOpen, Options));
    }

    [Fact]
    public void Without_a_retry_after_the_delay_doubles_per_attempt_up_to_the_maximum()
    {
        var failure = new TransientIntegrationException("timeout");

        TimeSpan[] delays = [.. Enumerable.Range(1, 5).Select(attempt => RedeliveryPolicy.Decide(attempt, failure, Options).Delay)];

        Assert.Equal([10, 20, 40, 60, 60], delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public void The_attempt_that_reaches_max_attempts_parks_instead_of_retrying()
    {
        var failure = new TransientIntegrationException("503");

        Assert.False(RedeliveryPolicy.Decide(Options.MaxAttempts - 1, failure, Options).Park);
        Assert.Equal(RedeliveryDecision.Parked, RedeliveryPolicy.Decide(Options.MaxAttempts, failure, Options));
    }

    [Fact]
    public void Only_transient_integration_failures_are_rescheduled()
    {
        Assert.True(RedeliveryPolicy.IsTransient(new AggregateException(new TransientIntegrationException("x"))));
        Assert.False(RedeliveryPolicy.IsTransient(new PermanentIntegrationException("unknown SKU", new TransientIntegrationException("inner"))));
        Assert.False(RedeliveryPolicy.IsTransient(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void Rescheduled_copy_keeps_session_body_and_properties_and_gets_the_same_id_every_time()
    {
        var message = new InboundMessage(Encoding.UTF8.GetBytes("{\"id\":7}"), "evt-1", "7", 1, new Dictionary<string, string> { ["trigger"] = "return.closed" });
        var at = new DateTimeOffset(2026, 3, 2, 8, 0, 10, TimeSpan.Zero);

        var first = MessageRedelivery.Rescheduled("loop-returns", message, MessageRedelivery.AttemptOf(message), at);
        var again = MessageRedelivery.Rescheduled("loop-returns", message, MessageRedelivery.AttemptOf(message with { DeliveryCount = 2 }), at);
        var delivered = new InboundMessage(first.Body, first.MessageId, first.SessionId, 1, first.Properties);
        var second = MessageRedelivery.Rescheduled("loop-returns", delivered, MessageRedelivery.AttemptOf(delivered), at);

        Assert.Equal("evt-1~r1", first.MessageId);
        Assert.Equal(first.MessageId, again.MessageId);
        Assert.Equal(("7", at, "return.closed", "1"), (first.SessionId, first.ScheduledEnqueueTime, first.Properties["trigger"], first.Properties[MessageRedelivery.AttemptsProperty]));
        Assert.True(first.Body.Span.SequenceEqual(message.Body.Span));
        Assert.Equal("evt-1~r2", second.MessageId);
        Assert.Equal("2", second.Properties[MessageRedelivery.AttemptsProperty]);
        Assert.Equal("evt-1", second.Properties[MessageRedelivery.OriginalMessageIdProperty]);
    }

    [Fact]
    public void Rescheduled_id_of_a_long_message_id_stays_within_service_bus_limits_and_is_stable()
    {
        string longId = new('x', 127);

        var id = MessageRedelivery.RescheduledMessageId(longId, 3);

        Assert.True(id.Length <= 128, id);
        Assert.Equal(id, MessageRedelivery.RescheduledMessageId(longId, 3));
        Assert.NotEqual(id, MessageRedelivery.RescheduledMessageId(longId, 4));
    }
}
