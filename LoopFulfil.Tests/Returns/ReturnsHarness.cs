using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The returns path (AddLoopFulfilReturns) on <see cref="IntegrationHarness"/>: the exception service and
/// <see cref="ReturnEventHandler"/> resolved from the real DI registrations, <see cref="IntegrationHarness.Bus"/>
/// delivering the ingress's messages to the handler and redelivering when it throws a transient error.
/// </summary>
internal sealed class ReturnsHarness : IntegrationHarness
{
    private ReturnsHarness(IntegrationParts parts)
        : base(parts)
    {
    }

    public ExceptionService Exceptions => Services.GetRequiredService<ExceptionService>();

    public SkuExceptionRechecker Rechecker => Services.GetRequiredService<SkuExceptionRechecker>();

    public IFulfilClient FulfilClient => Services.GetRequiredService<IFulfilClient>();

    public int QuarantineId => Fulfil.State.LocationId(Demo.Quarantine);

    /// <param name="flagReturnInLoop">ExceptionOptions.FlagReturnInLoop.</param>
    /// <param name="wrapStore">Wraps the Azurite table store (fault injection into the ledger).</param>
    public static async Task<ReturnsHarness> StartAsync(bool flagReturnInLoop = false, Func<ITableStore, ITableStore>? wrapStore = null) =>
        new(await StartPartsAsync(new IntegrationHarnessOptions
        {
            TablePrefix = "r",
            WrapStore = wrapStore,
            Settings = new Dictionary<string, string?> { ["Exceptions:FlagReturnInLoop"] = flagReturnInLoop ? "true" : "false" },
            AddFeatures = (services, configuration) => services.AddLoopFulfilReturns(configuration),
        }));

    /// <summary>Posts the webhook and delivers everything queued, as the Functions host would.</summary>
    public async Task<IReadOnlyList<BusDelivery>> SendAsync(byte[] body)
    {
        await PostWebhookAsync(body);
        return await DrainAsync();
    }

    /// <summary>Delivers every queued <c>loop-returns</c> message (see <see cref="IntegrationHarness.DrainReturnsAsync"/>).</summary>
    public Task<IReadOnlyList<BusDelivery>> DrainAsync() => DrainReturnsAsync();

    public IReadOnlyList<FulfilSandboxRecord> LinesOf(int saleId) =>
        Fulfil.State.Where("sale.line", r => Equals(r.GetValueOrDefault("sale"), saleId));
}
