// The one type this machine's feed cannot serve: the trigger attribute of
// Microsoft.Azure.Functions.Worker.Extensions.ServiceBus 5.24.0 (Azure/azure-functions-dotnet-worker, tag
// servicebus-extension-5.24.0, extensions/Worker.Extensions.ServiceBus/src/ServiceBusTriggerAttribute.cs), declared on
// the real Extensions.Abstractions base types so the real Worker SDK's generators write its binding metadata.
// Deliberately no [assembly: ExtensionInformation]: nothing to add to the host's extensions.json here, so a build
// that uses this file cannot receive Service Bus messages and must not be published (LoopFulfil.Functions.csproj).
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

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
