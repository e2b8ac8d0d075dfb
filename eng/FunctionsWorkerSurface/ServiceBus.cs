// Package: Microsoft.Azure.Functions.Worker.Extensions.ServiceBus 5.24.0 (tag servicebus-extension-5.24.0,
// extensions/Worker.Extensions.ServiceBus/src/). Deliberately no Azure.Messaging.ServiceBus types
// (ServiceBusReceivedMessage, ServiceBusMessageActions): the app binds bodies as string and reads MessageId,
// DeliveryCount, SessionId and ApplicationProperties from FunctionContext.BindingContext.BindingData.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

// Source: extensions/Worker.Extensions.ServiceBus/src/ServiceBusTriggerAttribute.cs (usage inherited: Parameter)
public sealed class ServiceBusTriggerAttribute : TriggerBindingAttribute, ISupportCardinality
{
    public ServiceBusTriggerAttribute(string queueName) => QueueName = queueName;

    public ServiceBusTriggerAttribute(string topicName, string subscriptionName)
    {
        TopicName = topicName;
        SubscriptionName = subscriptionName;
    }

    public string? Connection { get; set; }

    public string? QueueName { get; }

    public string? TopicName { get; }

    public string? SubscriptionName { get; }

    public bool IsSessionsEnabled { get; set; }

    [DefaultValue(false)]
    public bool IsBatched { get; set; }

    public bool AutoCompleteMessages { get; set; }

    Cardinality ISupportCardinality.Cardinality
    {
        get => IsBatched ? Cardinality.Many : Cardinality.One;
        set => IsBatched = value == Cardinality.Many;
    }
}

// Source: extensions/Worker.Extensions.ServiceBus/src/ServiceBusOutputAttribute.cs (usage inherited: Method | Property)
public sealed class ServiceBusOutputAttribute : OutputBindingAttribute
{
    public ServiceBusOutputAttribute(string queueOrTopicName, ServiceBusEntityType entityType = ServiceBusEntityType.Queue)
    {
        QueueOrTopicName = queueOrTopicName;
        EntityType = entityType;
    }

    public string QueueOrTopicName { get; private set; }

    public string? Connection { get; set; }

    public ServiceBusEntityType EntityType { get; set; }
}

// Source: extensions/Worker.Extensions.ServiceBus/src/ServiceBusEntityType.cs
public enum ServiceBusEntityType
{
    Queue,
    Topic,
}
