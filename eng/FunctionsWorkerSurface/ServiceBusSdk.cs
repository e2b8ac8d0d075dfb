// Package: Azure.Messaging.ServiceBus 7.20.1 (Azure/azure-sdk-for-net, sdk/servicebus/Azure.Messaging.ServiceBus/;
// public API listing api/Azure.Messaging.ServiceBus.netstandard2.0.cs). Not a Worker package: the app sends with the
// SDK because the isolated worker's ServiceBusOutput binding cannot set MessageId, SessionId or application properties
// (docs/decisions/0003-service-bus-sending.md). Only the members LoopFulfil.Functions calls; compile-only, every member throws.
using Azure.Core;
using Microsoft.Azure.Functions.Worker;

namespace Azure.Messaging.ServiceBus;

// Source: src/Client/ServiceBusClient.cs
public class ServiceBusClient : IAsyncDisposable
{
    // The real client has this for mocking; declared so the compiler does not invent a public parameterless one.
    protected ServiceBusClient() => throw Surface.NotRunnable();

    public ServiceBusClient(string connectionString) => throw Surface.NotRunnable();

    public ServiceBusClient(string fullyQualifiedNamespace, TokenCredential credential) => throw Surface.NotRunnable();

    public virtual ServiceBusSender CreateSender(string queueOrTopicName) => throw Surface.NotRunnable();

    public virtual ValueTask DisposeAsync() => throw Surface.NotRunnable();
}

// Source: src/Sender/ServiceBusSender.cs
public class ServiceBusSender : IAsyncDisposable
{
    protected ServiceBusSender() => throw Surface.NotRunnable();

    public virtual Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default) => throw Surface.NotRunnable();

    public virtual ValueTask DisposeAsync() => throw Surface.NotRunnable();
}

// Source: src/Primitives/ServiceBusMessage.cs
public class ServiceBusMessage
{
    public ServiceBusMessage(ReadOnlyMemory<byte> body) => throw Surface.NotRunnable();

    public string MessageId
    {
        get => throw Surface.NotRunnable();
        set => throw Surface.NotRunnable();
    }

    public string SessionId
    {
        get => throw Surface.NotRunnable();
        set => throw Surface.NotRunnable();
    }

    public string ContentType
    {
        get => throw Surface.NotRunnable();
        set => throw Surface.NotRunnable();
    }

    public IDictionary<string, object> ApplicationProperties => throw Surface.NotRunnable();

    public DateTimeOffset ScheduledEnqueueTime
    {
        get => throw Surface.NotRunnable();
        set => throw Surface.NotRunnable();
    }
}
