using System.Collections.Concurrent;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// The Service Bus sender's own logic (what it puts on each message, one link per queue, failure mapping, disposal),
/// driven through its per-queue seam. The SDK call itself needs a full NuGet feed and a namespace (see ADR 0003).
/// </summary>
public class ServiceBusMessageSenderTests
{
    private static readonly IReadOnlyDictionary<string, string> ReturnProperties = new Dictionary<string, string>
    {
        [WebhookMessagePropertyNames.Topic] = "return",
        [WebhookMessagePropertyNames.Trigger] = "return.created",
        [WebhookMessagePropertyNames.ReturnId] = "88001",
        [WebhookMessagePropertyNames.DedupeKey] = new string('a', 64),
    };

    private static OutboundMessage ReturnMessage(string messageId = "0123456789abcdef", string? sessionId = "88001") =>
        new(QueueNames.LoopReturns, "{\"id\":\"88001\"}"u8.ToArray(), messageId, sessionId, ReturnProperties);

    private static (ServiceBusMessageSender Sender, ConcurrentDictionary<string, ScriptedQueueSender> Links, Func<int> Created) Create(Func<string, ScriptedQueueSender>? make = null)
    {
        var links = new ConcurrentDictionary<string, ScriptedQueueSender>();
        var created = 0;
        var sender = new ServiceBusMessageSender(
            queue =>
            {
                Interlocked.Increment(ref created);
                return links.GetOrAdd(queue, q => make?.Invoke(q) ?? new ScriptedQueueSender());
            },
            NullLogger<ServiceBusMessageSender>.Instance);
        return (sender, links, () => Volatile.Read(ref created));
    }

    [Fact]
    public async Task Message_carries_message_id_session_id_json_content_type_and_every_property()
    {
        var (sender, links, _) = Create();
        var message = ReturnMessage();

        await sender.SendAsync(message, CancellationToken.None);

        var sent = Assert.Single(links[QueueNames.LoopReturns].Sent);
        Assert.Equal("0123456789abcdef", sent.MessageId);
        Assert.Equal("88001", sent.SessionId);
        Assert.Equal("application/json", sent.ContentType);
        Assert.Equal(ReturnProperties.OrderBy(p => p.Key), sent.ApplicationProperties.OrderBy(p => p.Key));
        Assert.True(sent.Body.Span.SequenceEqual(message.Body.Span));
    }

    [Fact]
    public async Task A_body_over_the_service_bus_limit_travels_by_claim_check_and_resolves_to_the_same_bytes()
    {
        var blobs = await LoopFulfil.Tests.Infrastructure.AzuriteTestServer.CreateBlobStoreAsync();
        var claims = new LoopFulfil.Core.Messaging.ClaimCheck(blobs, TimeProvider.System);
        var links = new ConcurrentDictionary<string, ScriptedQueueSender>();
        var sender = new ServiceBusMessageSender(q => links.GetOrAdd(q, _ => new ScriptedQueueSender()), NullLogger<ServiceBusMessageSender>.Instance, claims);
        var large = new byte[ServiceBusMessageSender.ClaimCheckThresholdBytes + 1000];
        Random.Shared.NextBytes(large);
        var small = ReturnMessage("small-1");

        await sender.SendAsync(new OutboundMessage(QueueNames.LoopReturns, large, "large-1", "88001", ReturnProperties), CancellationToken.None);
        await sender.SendAsync(small, CancellationToken.None);

        var sent = links[QueueNames.LoopReturns].Sent.ToList();
        var claimed = sent.Single(m => m.MessageId == "large-1");
        Assert.True(claimed.Body.IsEmpty);
        Assert.Equal("88001", claimed.SessionId);
        var resolved = await claims.ResolveAsync(new InboundMessage(claimed.Body, claimed.MessageId, claimed.SessionId, 1, claimed.ApplicationProperties), CancellationToken.None);
        Assert.True(resolved.Body.Span.SequenceEqual(large));
        var inline = sent.Single(m => m.MessageId == "small-1");
        Assert.False(inline.ApplicationProperties.ContainsKey(LoopFulfil.Core.Messaging.ClaimCheck.ReferenceProperty));
        Assert.True(inline.Body.Span.SequenceEqual(small.Body.Span));
    }

    [Fact]
    public async Task Unordered_queue_message_has_no_session_id()
    {
        var (sender, links, _) = Create();

        await sender.SendAsync(new OutboundMessage(QueueNames.Exceptions, "{}"u8.ToArray(), "SkuNotFound-abc:1", null, new Dictionary<string, string>()), CancellationToken.None);

        Assert.Null(Assert.Single(links[QueueNames.Exceptions].Sent).SessionId);
    }

    [Fact]
    public async Task One_sender_per_queue_is_created_even_when_first_sends_race()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (sender, links, created) = Create(_ => new ScriptedQueueSender { Gate = gate });

        Task[] sends =
        [
            .. Enumerable.Range(0, 16).Select(i => Task.Run(() => sender.SendAsync(ReturnMessage($"m-{i}"), CancellationToken.None))),
            .. Enumerable.Range(0, 4).Select(i => Task.Run(() => sender.SendAsync(new OutboundMessage(QueueNames.Exceptions, "{}"u8.ToArray(), $"e-{i}", null, new Dictionary<string, string>()), CancellationToken.None))),
        ];
        gate.SetResult();
        await Task.WhenAll(sends).Guarded();

        Assert.Equal(2, created());
        Assert.Equal(16, links[QueueNames.LoopReturns].Sent.Count);
        Assert.Equal(4, links[QueueNames.Exceptions].Sent.Count);
    }

    [Fact]
    public async Task Send_failure_surfaces_as_transient_with_the_cause_inside()
    {
        var cause = new TimeoutException("The operation did not complete within the allocated time.");
        var (sender, _, _) = Create(_ => new ScriptedQueueSender { Failure = cause });

        var thrown = await Assert.ThrowsAsync<TransientIntegrationException>(() => sender.SendAsync(ReturnMessage(), CancellationToken.None));

        Assert.Same(cause, thrown.InnerException);
        Assert.Contains(QueueNames.LoopReturns, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_turned_into_a_transient_failure()
    {
        var (sender, _, _) = Create(_ => new ScriptedQueueSender { Gate = new TaskCompletionSource() });
        using var cts = new CancellationTokenSource();

        var send = sender.SendAsync(ReturnMessage(), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.Guarded());
    }

    [Fact]
    public async Task Ids_longer_than_service_bus_accepts_are_refused_before_sending_not_retried()
    {
        var (sender, _, created) = Create();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => sender.SendAsync(ReturnMessage(messageId: new string('a', 129)), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => sender.SendAsync(ReturnMessage(sessionId: new string('7', 129)), CancellationToken.None));

        Assert.Equal(0, created());
    }

    [Fact]
    public async Task Dispose_closes_every_link_and_later_sends_are_refused()
    {
        var (sender, links, _) = Create();
        await sender.SendAsync(ReturnMessage(), CancellationToken.None);
        await sender.SendAsync(new OutboundMessage(QueueNames.Exceptions, "{}"u8.ToArray(), "x:1", null, new Dictionary<string, string>()), CancellationToken.None);

        await sender.DisposeAsync();

        Assert.All(links.Values, link => Assert.True(link.Disposed));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sender.SendAsync(ReturnMessage(), CancellationToken.None));
    }

    [Fact]
    public void Connection_by_namespace_uses_the_managed_identity_as_app_settings_spell_it()
    {
        var prefix = $"LFTEST{Guid.NewGuid():N}_";
        Environment.SetEnvironmentVariable(prefix + "ServiceBusConnection__fullyQualifiedNamespace", "sb-loopfulfil.servicebus.windows.net");
        Environment.SetEnvironmentVariable(prefix + "ServiceBusConnection__clientId", "00000000-0000-0000-0000-0000000000aa");
        try
        {
            IConfiguration configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();

            var settings = ServiceBusConnectionSettings.FromConfiguration(configuration);

            Assert.True(settings.UsesIdentity);
            Assert.Equal("sb-loopfulfil.servicebus.windows.net", settings.FullyQualifiedNamespace);
            Assert.Equal("00000000-0000-0000-0000-0000000000aa", settings.ClientId);
            Assert.Null(settings.ConnectionString);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "ServiceBusConnection__fullyQualifiedNamespace", null);
            Environment.SetEnvironmentVariable(prefix + "ServiceBusConnection__clientId", null);
        }
    }

    [Fact]
    public void Connection_string_is_used_when_no_namespace_is_set()
    {
        const string emulator = "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [Connections.ServiceBus] = emulator }).Build();

        var settings = ServiceBusConnectionSettings.FromConfiguration(configuration);

        Assert.False(settings.UsesIdentity);
        Assert.Equal(emulator, settings.ConnectionString);
    }

    [Fact]
    public void Namespace_wins_over_a_leftover_connection_string()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceBusConnection"] = "Endpoint=sb://old;SharedAccessKeyName=k;SharedAccessKey=v",
            ["ServiceBusConnection:fullyQualifiedNamespace"] = "sb-new.servicebus.windows.net",
        }).Build();

        var settings = ServiceBusConnectionSettings.FromConfiguration(configuration);

        Assert.True(settings.UsesIdentity);
        Assert.Equal("sb-new.servicebus.windows.net", settings.FullyQualifiedNamespace);
    }

    [Fact]
    public void Missing_connection_fails_at_registration_naming_both_settings()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() =>
            new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddLoopFulfilServiceBusSender(new ConfigurationBuilder().Build()));

        Assert.Contains("ServiceBusConnection__fullyQualifiedNamespace", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("ServiceBusConnection", thrown.Message, StringComparison.Ordinal);
    }
}
