using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;

namespace LoopFulfil.Functions.Messaging;

/// <summary>
/// Where the sender connects, read from the same app settings the Service Bus triggers use
/// (<see cref="Connections.ServiceBus"/>), so sending and receiving can never point at different namespaces.
/// </summary>
/// <remarks>
/// The extension's conventions: <c>ServiceBusConnection__fullyQualifiedNamespace</c> means identity-based (Azure:
/// the app's managed identity; <c>ServiceBusConnection__clientId</c> picks a user-assigned one), a plain
/// <c>ServiceBusConnection</c> value is a connection string (local: the Service Bus emulator).
/// </remarks>
public sealed class ServiceBusConnectionSettings
{
    private ServiceBusConnectionSettings(string? connectionString, string? fullyQualifiedNamespace, string? clientId)
    {
        ConnectionString = connectionString;
        FullyQualifiedNamespace = fullyQualifiedNamespace;
        ClientId = clientId;
    }

    /// <summary>Set when <c>ServiceBusConnection</c> holds a connection string.</summary>
    public string? ConnectionString { get; }

    /// <summary>Set when connecting with an identity (<c>ServiceBusConnection__fullyQualifiedNamespace</c>).</summary>
    public string? FullyQualifiedNamespace { get; }

    /// <summary>The user-assigned managed identity's client id (<c>ServiceBusConnection__clientId</c>), if any.</summary>
    public string? ClientId { get; }

    /// <summary>True when the connection uses an identity rather than a shared key.</summary>
    public bool UsesIdentity => FullyQualifiedNamespace is not null;

    /// <summary>Reads the settings; throws at start-up when neither form is configured.</summary>
    public static ServiceBusConnectionSettings FromConfiguration(IConfiguration configuration, string name = Connections.ServiceBus)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection(name);
        string? fullyQualifiedNamespace = NullIfBlank(section["fullyQualifiedNamespace"]);
        if (fullyQualifiedNamespace is not null)
        {
            // Identity wins over a leftover connection string, as in the extension: no key is ever needed in Azure.
            return new ServiceBusConnectionSettings(null, fullyQualifiedNamespace, NullIfBlank(section["clientId"]));
        }

        if (NullIfBlank(section.Value) is { } connectionString)
        {
            return new ServiceBusConnectionSettings(connectionString, null, null);
        }

        throw new InvalidOperationException(
            $"Service Bus is not configured: set {name}__fullyQualifiedNamespace (managed identity) or {name} (a connection string).");
    }

    /// <summary>A client for these settings. The caller owns (and disposes) it.</summary>
    public ServiceBusClient CreateClient()
    {
        if (FullyQualifiedNamespace is { } ns)
        {
            TokenCredential credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = ClientId });
            return new ServiceBusClient(ns, credential);
        }

        return new ServiceBusClient(ConnectionString!);
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
