using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The stages the composition root registers run in the order the design gives (docs/accounting.md): the return order
/// first, then the warehouse, then the money, the exchange, the settlement that nets what both left on the
/// receivable, and last what goes back to Loop. Each stage's order lies in its family's range.
/// </summary>
public sealed class ReturnStageOrderTests
{
    [Fact]
    public void Composed_stages_run_authorisation_warehouse_refunds_exchanges_settlement_then_write_back()
    {
        (string Name, ReturnStageFamily Family)[] design =
        [
            ("authorisation", ReturnStageFamily.Authorisation),
            ("cancellation", ReturnStageFamily.Authorisation),
            ("receipt", ReturnStageFamily.Warehouse),
            ("restock", ReturnStageFamily.Warehouse),
            ("refunds", ReturnStageFamily.Finance),
            ("exchanges", ReturnStageFamily.Exchanges),
            ("settlement", ReturnStageFamily.Finance),
            ("write-back", ReturnStageFamily.WriteBack),
        ];

        var stages = ComposedStages();

        Assert.Equal(design, stages.OrderBy(s => s.Order).Select(s => (s.Name, s.Family)));
        Assert.Equal(stages.Length, stages.Select(s => s.Order).Distinct().Count());
        Assert.All(stages, s => Assert.Equal(s.Family, ReturnStageFamilies.ForOrder(s.Order)));
    }

    [Fact]
    public void Settlement_is_numbered_in_a_finance_range_between_the_exchanges_and_the_write_back()
    {
        Assert.InRange(ReturnStageOrder.Settlement, ReturnStageOrder.Exchanges + 1, ReturnStageOrder.WriteBack - 1);
        Assert.Equal(ReturnStageFamily.Finance, ReturnStageFamilies.ForOrder(ReturnStageOrder.Settlement));
        Assert.Equal(ReturnStageFamily.Exchanges, ReturnStageFamilies.ForOrder(ReturnStageOrder.Exchanges));
    }

    private static IReturnStage[] ComposedStages()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fulfil:BaseUrl"] = "http://127.0.0.1:9/api/v2/",
            ["Fulfil:ApiKey"] = "key",
            ["Loop:BaseUrl"] = "http://127.0.0.1:9/",
            ["Loop:ApiKey"] = "key",
            ["Webhooks:Secret"] = "secret",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddLoopFulfil(configuration);
        services.AddSingleton<IMessageSender>(new RecordingMessageSender());
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        return [.. scope.ServiceProvider.GetServices<IReturnStage>()];
    }
}
