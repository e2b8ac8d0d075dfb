namespace LoopFulfil.Functions;

/// <summary>
/// App-setting prefixes the bindings read their connections from. In Azure the Service Bus one is identity-based
/// (<c>ServiceBusConnection__fullyQualifiedNamespace</c>); locally it may be a connection string.
/// </summary>
public static class Connections
{
    /// <summary>Use as <c>Connection = Connections.ServiceBus</c> on every Service Bus trigger and output.</summary>
    public const string ServiceBus = "ServiceBusConnection";
}
