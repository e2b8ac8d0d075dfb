using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Webhooks;

public static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="WebhookIngress"/> with <see cref="WebhookOptions"/> bound from section <c>Webhooks</c>
    /// (a secret is required at start-up). Needs the exception records it parks events in
    /// (<c>AddLoopFulfilExceptions</c>).
    /// </summary>
    public static IServiceCollection AddLoopFulfilWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.Secret) || !string.IsNullOrWhiteSpace(o.SecondarySecret), "Webhooks:Secret is required (Loop Developer Tools → webhook secret).")
            .Validate(o => o.MaxBodyBytes is > 0 and <= StorageLimits.MaxEventBodyBytes, $"Webhooks:MaxBodyBytes must be between 1 and {StorageLimits.MaxEventBodyBytes} (the largest event body storage keeps whole).")
            .Validate(o => o.RetryAfterSeconds is >= 1 and <= 1800, "Webhooks:RetryAfterSeconds must be 1–1800 (Loop fails webhooks asked to wait longer than 30 minutes).")
            .Validate(o => o.StorageTimeoutSeconds is >= 1 and <= 60, "Webhooks:StorageTimeoutSeconds must be 1–60.")
            .ValidateOnStart();
        services.TryAddSingleton<WebhookIngress>();
        return services;
    }
}
