using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// The returns path with the outcome stages (AddLoopFulfilReturns + AddOutcomeStages) on
/// <see cref="IntegrationHarness"/>, with a small redelivering consumer for <c>loop-exchanges</c>.
/// </summary>
internal sealed class OutcomesHarness : IntegrationHarness
{
    private OutcomesHarness(IntegrationParts parts)
        : base(parts)
    {
    }

    public PostingStore Postings => Services.GetRequiredService<PostingStore>();

    public int QuarantineId => Fulfil.State.LocationId(FulfilSandboxDemo.QuarantineLocationCode);

    /// <param name="commerceSync">Also registers commerce sync (orders pushed to Loop, as a Loop Anywhere host does).</param>
    /// <param name="addServices">Extra registrations (e.g. a test stage), after the features.</param>
    /// <param name="clock">The services' and sandboxes' clock, which the bus advances past a wait a failed delivery asks for (<see cref="InProcessBus.Clock"/>).</param>
    public static async Task<OutcomesHarness> StartAsync(IDictionary<string, string?>? overrides = null, bool commerceSync = false, Action<IServiceCollection>? addServices = null, FakeTimeProvider? clock = null)
    {
        var settings = OutcomeSettings;
        if (commerceSync)
        {
            settings["CommerceSync:TableName"] = AzuriteTestServer.UniqueTableName("om");
            settings["CommerceSync:WarehouseAddress1"] = "1 Depot Road";
            settings["CommerceSync:WarehouseCity"] = "Springfield";
        }

        OutcomesHarness harness = new(await StartPartsAsync(new IntegrationHarnessOptions
        {
            TablePrefix = "o",
            FulfilPostingSettings = true,
            Settings = settings,
            Overrides = overrides,
            Clock = clock,
            AddFeatures = (services, configuration) =>
            {
                services.AddLoopFulfilReturns(configuration).AddOutcomeStages(configuration);
                // As AddLoopFulfil does: Live unless a test sets Integration:Mode=Shadow.
                services.AddLoopFulfilShadowMode(configuration);
                if (commerceSync)
                {
                    services.AddLoopFulfilCommerceSync(configuration);
                }

                addServices?.Invoke(services);
            },
        }));
        harness.Bus.Clock = clock;
        return harness;
    }

    /// <summary>The outcome stages' settings, shared with the reconciliation harness: no Loop flagging or write-back.</summary>
    public static Dictionary<string, string?> OutcomeSettings => new()
    {
        ["Exceptions:FlagReturnInLoop"] = "false",
        ["Refunds:HandlingFeeAccountCode"] = FulfilSandboxDemo.ReturnFeeAccountCode,
        ["Refunds:GiftCardBonusAccountCode"] = FulfilSandboxDemo.GiftCardBonusAccountCode,
        ["WriteBack:ExchangeOrders"] = "false",
    };

    /// <summary>Signs and posts the webhook through the ingress, then delivers everything queued on loop-returns.</summary>
    public async Task<IReadOnlyList<BusDelivery>> SendAsync(byte[] body)
    {
        await PostWebhookAsync(body);
        return await DrainAsync();
    }

    public Task<IReadOnlyList<BusDelivery>> DrainAsync() => DrainReturnsAsync();

    /// <summary>What the hosts' <c>POST /api/returns/{id}/inspection</c> does, then the queue delivery.</summary>
    public async Task<InspectionReceipt> InspectAsync(string returnId, params LineInspection[] lines)
    {
        await using var scope = Services.CreateAsyncScope();
        var receipt = await scope.ServiceProvider.GetRequiredService<InspectionService>().SubmitAsync(returnId, lines, CancellationToken.None);
        await DrainAsync();
        return receipt;
    }

    /// <summary>Delivers one loop-exchanges message <paramref name="times"/> times (redelivering on transient errors), then drains loop-returns.</summary>
    public async Task<IReadOnlyList<ExchangeHandlingResult>> DeliverExchangeAsync(OutboundMessage message, int times = 1)
    {
        var results = new List<ExchangeHandlingResult>();
        for (var i = 0; i < times; i++)
        {
            results.Add(await DeliverExchangeOnceAsync(message));
        }

        await DrainAsync();
        return results;
    }

    public FulfilSandboxRecord ReturnOrder(string returnId) => Assert.Single(ReturnOrders(returnId));

    /// <summary>Units the return's customer return shipments put into quarantine (done inventory moves).</summary>
    public decimal UnitsReceived(string returnId)
    {
        var orders = ReturnOrders(returnId);
        if (orders.Count == 0)
        {
            return 0m;
        }

        var refs = Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), orders[0].Id))
            .Select(s => "stock.shipment.out.return," + s.Id.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        return Fulfil.State.Where("stock.move", m => refs.Contains(m.GetValueOrDefault("shipment") as string ?? "") && Equals(m.GetValueOrDefault("kind"), "inventory")
                && Equals(m.GetValueOrDefault("state"), "done") && Equals(m.GetValueOrDefault("to_location"), QuarantineId))
            .Sum(m => m.Number("quantity"));
    }

    /// <summary>Units moved out of quarantine by the return's restock shipments (done).</summary>
    public decimal UnitsMovedOutOfQuarantine(string returnId) =>
        RestockShipments(returnId).Where(s => s.State == "done")
            .SelectMany(s => Fulfil.State.Where("stock.move", m => Equals(m.GetValueOrDefault<string, object?>("shipment"), "stock.shipment.internal," + s.Id.ToString(CultureInfo.InvariantCulture))))
            .Where(m => m.Ref("from_location") == QuarantineId)
            .Sum(m => m.Number("quantity"));

    public IReadOnlyList<FulfilSandboxRecord> RestockShipments(string returnId) =>
        Fulfil.State.Where("stock.shipment.internal", s => (s.GetValueOrDefault("reference") as string ?? "").StartsWith($"LOOP-{returnId}-RESTOCK-", StringComparison.Ordinal));

    public IReadOnlyList<FulfilSandboxRecord> Journals(string returnId, string kind) =>
        Fulfil.State.Where("account.move", m => Equals(m.GetValueOrDefault("description"), $"LOOP-{returnId}-{kind}"));

    public IReadOnlyList<FulfilSandboxRecord> JournalLines(int moveId) =>
        Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), moveId));

    public IReadOnlyList<FulfilSandboxRecord> ExchangeOrders(string returnId) =>
        Fulfil.State.Where("sale.sale", s => (s.GetValueOrDefault("channel_identifier") as string ?? "").StartsWith($"LOOP-{returnId}-EXC", StringComparison.Ordinal));

    public decimal Stock(string sku, string locationCode) => Fulfil.State.StockOf(sku, locationCode);

    /// <summary>The invariant of every scenario: what left quarantine is exactly what the return put there.</summary>
    public void AssertMovedOutEqualsReceived(string returnId, decimal expectedUnits)
    {
        Assert.Equal(expectedUnits, UnitsReceived(returnId));
        Assert.Equal(UnitsReceived(returnId), UnitsMovedOutOfQuarantine(returnId));
        Assert.True(Fulfil.State.All("product.product").All(p => Stock(p.Text("code")!, FulfilSandboxDemo.QuarantineLocationCode) >= 0), "Quarantine stock went negative.");
    }
}

/// <summary>A Loop return of the outcome scenarios (a demo sale's); every body has the same ids.</summary>
internal sealed class OutcomeReturn(string orderName, Action<LoopReturnBuilder, OutcomeReturn> configure)
{
    public string ReturnId { get; } = LoopReturnBuilder.NextId();

    public string OrderName => orderName;

    public string Line(int n) => LoopReturnBuilder.LineId(ReturnId, n);

    public JsonObject Json(string state, int minutes) => Body(state, minutes).ReturnJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Body(state, minutes).Webhook(trigger);

    public byte[] Created_() => Webhook("return.created", "open", 0);

    public byte[] Closed() => Webhook("return.closed", "closed", 120);

    /// <summary>A <c>label.updated</c> webhook of the return (<see cref="LoopReturnBuilder.LabelUpdated"/>).</summary>
    public byte[] LabelUpdated(string status) => Body("open", 0).LabelUpdated(status);

    /// <summary>A <c>restock.requested</c> webhook of the return (<see cref="LoopReturnBuilder.RestockRequested"/>).</summary>
    public byte[] RestockRequested(int units) => Body("open", 0).RestockRequested(units);

    /// <summary>Adds the open return to the Loop sandbox so process/flag/note calls find it.</summary>
    public OutcomeReturn AddTo(LoopSandbox loop)
    {
        Body("open", 0).AddTo(loop);
        return this;
    }

    private LoopReturnBuilder Body(string state, int minutes) =>
        LoopReturnBuilder.ForDemoSale(orderName, ReturnId).AsOf(state, minutes).Configure(b => configure(b, this));
}
