using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

public class WebhookRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<ITableStore, NoStorageAllowed>();
        services.AddSingleton<IBlobStore, NoBlobsAllowed>();
        services.AddSingleton<IMessageSender, RecordingMessageSender>();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        services.AddLoopFulfilExceptions(configuration);
        services.AddLoopFulfilWebhooks(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Configured_ingress_verifies_with_the_secrets_from_the_webhooks_section()
    {
        await using var provider = Build(new()
        {
            ["Webhooks:Secret"] = "from-config",
            ["Webhooks:SecondarySecret"] = "from-config-next",
            ["Webhooks:MaxBodyBytes"] = "65536",
        });
        var ingress = provider.GetRequiredService<WebhookIngress>();
        var body = Fixture("restock-requested.json");

        var primary = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body, "from-config")), CancellationToken.None);
        var secondary = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body, "from-config-next")), CancellationToken.None);
        var defaultSecret = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), CancellationToken.None);

        Assert.Equal(202, primary.Response.StatusCode);
        Assert.Equal(202, secondary.Response.StatusCode);
        Assert.Equal(401, defaultSecret.Response.StatusCode);
        Assert.NotNull(provider.GetRequiredService<ExceptionService>());
        Assert.Equal(65536, provider.GetRequiredService<IOptions<WebhookOptions>>().Value.MaxBodyBytes);
    }

    [Fact]
    public void Missing_secret_fails_options_validation_at_start_up()
    {
        using var provider = Build(new() { ["Webhooks:MaxBodyBytes"] = "65536" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WebhookOptions>>().Value);
        Assert.Contains("Webhooks:Secret", error.Message, StringComparison.Ordinal);
    }
}
