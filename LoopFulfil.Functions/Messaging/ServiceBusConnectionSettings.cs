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
/// The extension's conventions: <c>ServiceBusConnection__fullyQualifiedNamespace</c> means identity-based, with
/// <c>ServiceBusConnection__credential=managedidentity</c> (Azure: the app's managed identity, and
/// <c>ServiceBusConnection__clientId</c> picks the user-assigned one) or, without it, the developer's own sign-in
/// (<see cref="DefaultAzureCredential"/>); a plain <c>ServiceBusConnection</c> value is a connection string (local:
/// the Service Bus emulator).
/// </remarks>
public sealed class ServiceBusConnectionSettings
{
    /// <summary>Per try: an AMQP send normally completes in tens of milliseconds; a namespace slower than this is degraded.</summary>
    internal static readonly TimeSpan TryTimeout = TimeSpan.FromSeconds(4);

    /// <summary>Retries after the first try: one, so a blip is ridden out but an outage is not waited on.</summary>
    internal const int MaxRetries = 1;

    internal static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private ServiceBusConnectionSettings(string? connectionString, string? fullyQualifiedNamespace, string? clientId, bool managedIdentity)
    {
        ConnectionString = connectionString;
        FullyQualifiedNamespace = fullyQualifiedNamespace;
        ClientId = clientId;
        UsesManagedIdentity = managedIdentity;
    }

    /// <summary>Set when <c>ServiceBusConnection</c> holds a connection string.</summary>
    public string? ConnectionString { get; }

    /// <summary>Set when connecting with an identity (<c>ServiceBusConnection__fullyQualifiedNamespace</c>).</summary>
    public string? FullyQualifiedNamespace { get; }

    /// <summary>The user-assigned managed identity's client id (<c>ServiceBusConnection__clientId</c>), if any.</summary>
    public string? ClientId { get; }

    /// <summary>True when the connection uses an identity rather than a shared key.</summary>
    public bool UsesIdentity => FullyQualifiedNamespace is not null;

    /// <summary><c>ServiceBusConnection__credential=managedidentity</c>: the app's managed identity (Azure), never a developer sign-in.</summary>
    public bool UsesManagedIdentity { get; }

    /// <summary>Reads the settings; throws at start-up when neither form is configured.</summary>
    public static ServiceBusConnectionSettings FromConfiguration(IConfiguration configuration, string name = Connections.ServiceBus)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        var fullyQualifiedNamespace = NullIfBlank(section["fullyQualifiedNamespace"]);
        if (fullyQualifiedNamespace is not null)
        {
            // Identity wins over a leftover connection string, as in the extension: no key is ever needed in Azure.
            var managed = string.Equals(NullIfBlank(section["credential"]), "managedidentity", StringComparison.OrdinalIgnoreCase);
            return new ServiceBusConnectionSettings(null, fullyQualifiedNamespace, NullIfBlank(section["clientId"]), managed);
        }

        if (NullIfBlank(section.Value) is { } connectionString)
        {
            return new ServiceBusConnectionSettings(connectionString, null, null, managedIdentity: false);
        }

        throw new InvalidOperationException(
            $"Service Bus is not configured: set {name}__fullyQualifiedNamespace (managed identity) or {name} (a connection string).");
    }

    /// <summary>
    /// The credential for identity-based connections: <see cref="ManagedIdentityCredential"/> (the user-assigned
    /// identity when <see cref="ClientId"/> is set) in Azure, so a missing role fails fast instead of walking
    /// DefaultAzureCredential's chain; <see cref="DefaultAzureCredential"/> for a developer otherwise.
    /// </summary>
    public TokenCredential CreateCredential() => UsesManagedIdentity
        ? new ManagedIdentityCredential(ClientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(ClientId))
        : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = ClientId });

    /// <summary>
    /// Explicit limits instead of the SDK's defaults (3 retries of a 60-second try, minutes in all): the webhook waits
    /// on this send, and Loop must get a 503 + Retry-After within seconds when the namespace is degraded, not a
    /// timeout. At most (1 + <see cref="MaxRetries"/>) × <see cref="TryTimeout"/> + <see cref="MaxRetryDelay"/>.
    /// </summary>
    public static ServiceBusClientOptions ClientOptions() => new()
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            Mode = ServiceBusRetryMode.Exponential,
            MaxRetries = MaxRetries,
            Delay = RetryDelay,
            MaxDelay = MaxRetryDelay,
            TryTimeout = TryTimeout,
        },
    };

    /// <summary>A client for these settings. The caller owns (and disposes) it.</summary>
    public ServiceBusClient CreateClient(TokenCredential? credential = null) => FullyQualifiedNamespace is { } ns
        ? new ServiceBusClient(ns, credential ?? CreateCredential(), ClientOptions())
        : new ServiceBusClient(ConnectionString!, ClientOptions());

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
