using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ClaimCheck"/>, which the hosts' senders, the redelivery of every queue consumer and the
    /// privacy retention share. Needs an <c>IBlobStore</c> (<c>AddLoopFulfilStorage</c>).
    /// </summary>
    public static IServiceCollection AddLoopFulfilMessaging(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ClaimCheck>();
        return services;
    }
}
