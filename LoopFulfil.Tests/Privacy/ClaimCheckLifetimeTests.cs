using System.Xml;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Tests.Deployment;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Privacy;

/// <summary>
/// Issue #19: a claim-checked body outlives every message that points at it, on both hosts: one lifetime
/// (<see cref="MessageLifetimes"/>) that the deployed Service Bus queues, the Functions sender and the local queues agree with.
/// </summary>
public sealed class ClaimCheckLifetimeTests
{
    [Fact]
    public void Claim_checked_bodies_outlive_the_longest_message_time_to_live_the_deployment_sets_plus_the_longest_schedule()
    {
        var arm = ArmTemplate.Load(new Dictionary<string, string>());
        var queueTtls = ArmTemplate.Resources(ArmTemplate.Template(arm.Module("serviceBus")), "Microsoft.ServiceBus/namespaces/queues")
            .Select(q => XmlConvert.ToTimeSpan((string)q["properties"]!["defaultMessageTimeToLive"]!))
            .ToList();

        Assert.Equal(3, queueTtls.Count);
        Assert.Equal(MessageLifetimes.TimeToLive, queueTtls.Max());
        Assert.True(ClaimCheck.Retention > MessageLifetimes.TimeToLive + MessageLifetimes.LongestScheduleDelay, $"bodies kept {ClaimCheck.Retention}");

        // The longest scheduled redelivery is what the lifetime allows for.
        Assert.Empty(new RedeliveryOptions { MaxDelay = MessageLifetimes.LongestScheduleDelay }.Validate());
        Assert.NotEmpty(new RedeliveryOptions { MaxDelay = MessageLifetimes.LongestScheduleDelay + TimeSpan.FromSeconds(1) }.Validate());
    }

    [Fact]
    public void Every_service_bus_message_carries_the_time_to_live_the_bodies_are_kept_for()
    {
        var message = OutgoingServiceBusMessage.From(new OutboundMessage(QueueNames.LoopReturns, "{}"u8.ToArray(), "m-1", "r-1", new Dictionary<string, string>()));

        Assert.Equal(MessageLifetimes.TimeToLive, message.ToServiceBusMessage().TimeToLive);
    }

    [Fact]
    public async Task A_local_queue_message_expires_after_the_same_time_to_live_as_on_service_bus()
    {
        var queues = await AzuriteTestServer.CreateQueueStoreAsync();
        var queue = AzuriteTestServer.UniqueQueueName("ttl");
        await queues.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        await queues.SendAsync(queue, "{}"u8.ToArray(), null, CancellationToken.None);

        var peeked = Assert.Single((await new QueueClient(await AzuriteTestServer.GetConnectionStringAsync(), queue).PeekMessagesAsync(1)).Value);

        Assert.InRange(peeked.ExpiresOn!.Value - peeked.InsertedOn!.Value, MessageLifetimes.TimeToLive - TimeSpan.FromSeconds(1), MessageLifetimes.TimeToLive + TimeSpan.FromSeconds(1));
    }
}
