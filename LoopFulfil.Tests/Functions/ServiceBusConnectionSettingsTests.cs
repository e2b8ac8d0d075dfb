using Azure.Identity;
using Azure.Messaging.ServiceBus;
using LoopFulfil.Functions.Messaging;
using Microsoft.Extensions.Configuration;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// How the Functions host's Service Bus client connects (the same settings as the triggers) and how long a send may
/// hold Loop's webhook request when the namespace is degraded.
/// </summary>
public class ServiceBusConnectionSettingsTests
{
    private static ServiceBusConnectionSettings From(params (string Key, string Value)[] settings) =>
        ServiceBusConnectionSettings.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void Azure_settings_use_the_apps_managed_identity_not_the_developer_credential_chain()
    {
        var settings = From(
            ("ServiceBusConnection:fullyQualifiedNamespace", "sb-prod.servicebus.windows.net"),
            ("ServiceBusConnection:credential", "managedidentity"),
            ("ServiceBusConnection:clientId", "6c1f1b3e-0000-4000-8000-000000000001"));

        Assert.True(settings.UsesManagedIdentity);
        Assert.Equal("6c1f1b3e-0000-4000-8000-000000000001", settings.ClientId);
        Assert.IsType<ManagedIdentityCredential>(settings.CreateCredential());
        Assert.Equal("sb-prod.servicebus.windows.net", settings.CreateClient().FullyQualifiedNamespace);
    }

    [Fact]
    public void A_namespace_without_the_managed_identity_setting_signs_in_as_the_developer()
    {
        var settings = From(("ServiceBusConnection:fullyQualifiedNamespace", "sb-dev.servicebus.windows.net"));

        Assert.False(settings.UsesManagedIdentity);
        Assert.IsType<DefaultAzureCredential>(settings.CreateCredential());
    }

    [Fact]
    public void Retries_are_bounded_so_a_degraded_namespace_answers_within_seconds_not_the_sdk_default_minutes()
    {
        var retry = ServiceBusConnectionSettings.ClientOptions().RetryOptions;
        var sdkDefault = new ServiceBusClientOptions().RetryOptions;

        var worstCase = (retry.TryTimeout * (retry.MaxRetries + 1)) + (retry.MaxDelay * retry.MaxRetries);

        // Loop waits on the webhook while the message is sent; 10 s leaves it a prompt 503 + Retry-After.
        Assert.True(worstCase <= TimeSpan.FromSeconds(10), $"worst case {worstCase}");
        Assert.True(retry.TryTimeout < sdkDefault.TryTimeout && retry.MaxRetries < sdkDefault.MaxRetries);
        Assert.Equal(ServiceBusRetryMode.Exponential, retry.Mode);
    }

    [Fact]
    public void Outgoing_message_becomes_an_sdk_message_with_ids_content_type_and_properties()
    {
        var outgoing = new OutgoingServiceBusMessage(
            "{\"id\":\"88001\"}"u8.ToArray(), "0123456789abcdef", "88001", "application/json",
            new Dictionary<string, string> { ["LoopTopic"] = "return", ["LoopReturnId"] = "88001" });

        var message = outgoing.ToServiceBusMessage();

        Assert.Equal("0123456789abcdef", message.MessageId);
        Assert.Equal("88001", message.SessionId);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("{\"id\":\"88001\"}", message.Body.ToString());
        Assert.Equal(new Dictionary<string, object> { ["LoopTopic"] = "return", ["LoopReturnId"] = "88001" }, message.ApplicationProperties);
    }
}
