using LoopFulfil.Core.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Redelivery;

public static class RedeliveryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MessageRedelivery"/> (every queue consumer runs through it), <see cref="DeadLetterRecorder"/>
    /// and <see cref="RedeliveryOptions"/> from section <c>Redelivery</c>, validated at start-up. Needs the exception
    /// service, the claim check (<c>AddLoopFulfilMessaging</c>), storage and the host's <see cref="IMessageSender"/>.
    /// </summary>
    public static IServiceCollection AddLoopFulfilRedelivery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RedeliveryOptions>()
            .Bind(configuration.GetSection(RedeliveryOptions.Section))
            .Validate(o => o.Validate().Count == 0, "Redelivery settings are invalid: MaxAttempts 1-100, BaseDelay above zero and at most 01:00:00, MaxDelay from BaseDelay to 1.00:00:00.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DeadLetterRecorder>();
        services.TryAddSingleton<MessageRedelivery>();
        return services;
    }
}
