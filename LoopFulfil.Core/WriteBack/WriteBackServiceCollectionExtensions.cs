using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Core.WriteBack;

public static class WriteBackServiceCollectionExtensions
{
    /// <summary>
    /// Registers the write-back stage (<see cref="ReturnStageOrder.WriteBack"/>), <see cref="PostedCreditNoteRefunds"/>
    /// (how commerce sync values a return order's refund) and <see cref="WriteBackOptions"/> from section
    /// <c>WriteBack</c>. Order refunds need an <see cref="ILoopOrderPusher"/> (commerce sync registers itself as one).
    /// </summary>
    public static IServiceCollection AddLoopFulfilWriteBack(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WriteBackOptions>().Bind(configuration.GetSection(WriteBackOptions.Section));
        // Commerce sync (when registered) values Loop order refunds from posted credit notes.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICommerceReturnRefunds, PostedCreditNoteRefunds>());
        services.AddLoopFulfilReturnStage<WriteBackStage>();
        return services;
    }
}
