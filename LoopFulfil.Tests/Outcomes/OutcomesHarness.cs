using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Returns;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// The returns path with the outcome stages, wired as a host wires it (AddLoopFulfilReturns + AddLoopFulfilOutcomes)
/// over the Fulfil and Loop sandboxes (HTTP) and Azurite, with the returns harness's in-process bus for
/// <c>loop-returns</c> and a small redelivering consumer for <c>loop-exchanges</c>.
/// </summary>
internal sealed class OutcomesHarness : IAsyncDisposable
{
    private readonly ServiceProvider services;

    private OutcomesHarness(FulfilSandbox fulfil, LoopSandbox loop, ServiceProvider services, InProcessBus bus)
    {
        Fulfil = fulfil;
        Loop = loop;
        this.services = services;
        Bus = bus;
    }

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    public InProcessBus Bus { get; }

    public IServiceProvider Services => services;

    public ReturnLedger Ledger => services.GetRequiredService<ReturnLedger>();

    public PostingStore Postings => services.GetRequiredService<PostingStore>();

    public int QuarantineId => Fulfil.State.LocationId(FulfilSandboxDemo.QuarantineLocationCode);

    public static async Task<OutcomesHarness> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        FulfilSandbox fulfil = await FulfilSandbox.StartAsync();
        LoopSandbox loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("o"));
        var settings = new Dictionary<string, string?>
        {
            ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = fulfil.ApiKey,
            ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.QuarantineLocationCode,
            ["Fulfil:SellableLocationCode"] = FulfilSandboxDemo.SellableLocationCode,
            ["Fulfil:DamagedLocationCode"] = FulfilSandboxDemo.DamagedLocationCode,
            ["Fulfil:ReturnsClearingAccountCode"] = FulfilSandboxDemo.ReturnsClearingAccountCode,
            ["Fulfil:GiftCardLiabilityAccountCode"] = FulfilSandboxDemo.GiftCardLiabilityAccountCode,
            ["Fulfil:JournalId"] = FulfilSandboxDemo.MiscJournalId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:ExchangeChannelId"] = FulfilSandboxDemo.ExchangeChannelId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:ExchangePriority"] = "1",
            ["Fulfil:SaleLookup"] = nameof(FulfilSaleLookup.OrderName),
            ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = loop.ApiKey,
            ["Webhooks:Secret"] = WebhookTestKit.Secret,
            ["Exceptions:FlagReturnInLoop"] = "false",
            ["Refunds:HandlingFeeAccountCode"] = FulfilSandboxDemo.ReturnFeeAccountCode,
            ["Refunds:UpsellClearingAccountCode"] = FulfilSandboxDemo.CashAccountCode,
            ["WriteBack:ExchangeOrders"] = "false",
            ["HttpResilience:MaxRetryAttempts"] = "2",
            ["HttpResilience:BaseDelay"] = "00:00:00.010",
            ["HttpResilience:MaxDelay"] = "00:00:00.050",
            ["HttpResilience:MaxRetryAfter"] = "00:00:01",
            ["HttpResilience:CircuitBreakerEnabled"] = "false",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var bus = new InProcessBus();
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        collection.AddSingleton(store);
        collection.AddSingleton<IMessageSender>(bus);
        collection.AddLoopFulfilFulfil(configuration);
        collection.AddLoopFulfilLoop(configuration);
        collection.AddLoopFulfilWebhooks(configuration);
        collection.AddLoopFulfilReturns(configuration);
        collection.AddLoopFulfilOutcomes(configuration);
        ServiceProvider provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new OutcomesHarness(fulfil, loop, provider, bus);
    }

    /// <summary>Signs and posts the webhook through the ingress, then delivers everything queued on loop-returns.</summary>
    public async Task<IReadOnlyList<BusDelivery>> SendAsync(byte[] body)
    {
        WebhookIngress ingress = services.GetRequiredService<WebhookIngress>();
        WebhookResponse response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Bus, CancellationToken.None);
        Assert.Equal(202, response.StatusCode);
        return await DrainAsync();
    }

    public Task<IReadOnlyList<BusDelivery>> DrainAsync() => Bus.DrainAsync(async (message, ct) =>
    {
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
    });

    /// <summary>What the hosts' <c>POST /api/returns/{id}/inspection</c> does, then the queue delivery.</summary>
    public async Task<InspectionReceipt> InspectAsync(string returnId, params LineInspection[] lines)
    {
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        InspectionReceipt receipt = await scope.ServiceProvider.GetRequiredService<InspectionService>().SubmitAsync(returnId, lines, CancellationToken.None);
        await DrainAsync();
        return receipt;
    }

    /// <summary>Messages waiting on loop-exchanges (taken off the bus).</summary>
    public IReadOnlyList<OutboundMessage> TakeExchangeMessages()
    {
        var taken = new List<OutboundMessage>();
        var others = new List<OutboundMessage>();
        while (Bus.OtherQueues.TryDequeue(out OutboundMessage? m))
        {
            (m.Queue == QueueNames.LoopExchanges ? taken : others).Add(m);
        }

        foreach (OutboundMessage m in others)
        {
            Bus.OtherQueues.Enqueue(m);
        }

        return taken;
    }

    /// <summary>Delivers one loop-exchanges message <paramref name="times"/> times (redelivering on transient errors), then drains loop-returns.</summary>
    public async Task<IReadOnlyList<ExchangeHandlingResult>> DeliverExchangeAsync(OutboundMessage message, int times = 1)
    {
        var results = new List<ExchangeHandlingResult>();
        for (int i = 0; i < times; i++)
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await using AsyncServiceScope scope = services.CreateAsyncScope();
                    results.Add(await scope.ServiceProvider.GetRequiredService<ExchangeOrderHandler>()
                        .HandleAsync(new InboundMessage(message.Body, message.MessageId, message.SessionId, attempt, message.Properties), CancellationToken.None));
                    break;
                }
                catch (TransientIntegrationException) when (attempt < 10)
                {
                }
            }
        }

        await DrainAsync();
        return results;
    }

    public FulfilSandboxRecord ReturnOrder(string returnId) =>
        Assert.Single(Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel_identifier"), returnId) && Equals(r.GetValueOrDefault("is_return"), true)));

    /// <summary>Units the return's customer return shipments put into quarantine (done inventory moves).</summary>
    public decimal UnitsReceived(string returnId)
    {
        var orders = Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel_identifier"), returnId) && Equals(r.GetValueOrDefault("is_return"), true));
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

    public IReadOnlyList<FulfilSandboxRecord> CreditNotes(string returnId) =>
        Fulfil.State.Where("account.invoice", i => Equals(i.GetValueOrDefault("reference"), $"LOOP-{returnId}-CN"));

    public IReadOnlyList<FulfilSandboxRecord> Journals(string returnId, string kind) =>
        Fulfil.State.Where("account.move", m => Equals(m.GetValueOrDefault("description"), $"LOOP-{returnId}-{kind}"));

    public IReadOnlyList<FulfilSandboxRecord> JournalLines(int moveId) =>
        Fulfil.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), moveId));

    public IReadOnlyList<FulfilSandboxRecord> ExchangeOrders(string returnId) =>
        Fulfil.State.Where("sale.sale", s => (s.GetValueOrDefault("channel_identifier") as string ?? "").StartsWith($"LOOP-{returnId}-EXC", StringComparison.Ordinal));

    public decimal Stock(string sku, string locationCode) => Fulfil.State.StockOf(sku, locationCode);

    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (ExceptionRecord r in services.GetRequiredService<ExceptionService>().ListAsync(null, null, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    /// <summary>The invariant of every scenario: what left quarantine is exactly what the return put there.</summary>
    public void AssertMovedOutEqualsReceived(string returnId, decimal expectedUnits)
    {
        Assert.Equal(expectedUnits, UnitsReceived(returnId));
        Assert.Equal(UnitsReceived(returnId), UnitsMovedOutOfQuarantine(returnId));
        Assert.True(Fulfil.State.All("product.product").All(p => Stock(p.Text("code")!, FulfilSandboxDemo.QuarantineLocationCode) >= 0), "Quarantine stock went negative.");
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        await Fulfil.DisposeAsync();
        await Loop.DisposeAsync();
    }
}

/// <summary>
/// One Loop return of these tests, with stable line ids so every webhook of it carries the same lines, written
/// against the Fulfil demo sales. <see cref="Configure"/> adds lines and money (LoopReturnBuilder).
/// </summary>
internal sealed class OutcomeReturn
{
    private static long next = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 1_000_000_000 * 100;
    private readonly Action<LoopReturnBuilder, OutcomeReturn> configure;

    public OutcomeReturn(string orderName, Action<LoopReturnBuilder, OutcomeReturn> configure)
    {
        ReturnId = Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture);
        OrderName = orderName;
        this.configure = configure;
    }

    public string ReturnId { get; }

    public string OrderName { get; }

    public static readonly DateTimeOffset Created = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Line id of the <paramref name="n"/>th unit (1-based) as the configure action names them with <see cref="Line"/>.</summary>
    public string Line(int n) => ReturnId + n.ToString("00", CultureInfo.InvariantCulture);

    public JsonObject Json(string state, int minutes) => Builder(null, state, minutes).BuildJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Builder(trigger, state, minutes).BuildBytes();

    public byte[] Created_() => Webhook("return.created", "open", 0);

    public byte[] Closed() => Webhook("return.closed", "closed", 120);

    /// <summary>Adds the open return to the Loop sandbox so process/flag/note calls find it.</summary>
    public OutcomeReturn AddTo(LoopSandbox loop)
    {
        loop.AddReturn(Json("open", 0), sendCreatedWebhook: false);
        return this;
    }

    private LoopReturnBuilder Builder(string? trigger, string state, int minutes)
    {
        LoopReturnBuilder b = LoopReturnBuilder.AReturn(ReturnId).WithTrigger(trigger).WithState(state).ForOrder(OrderName, "555000" + OrderName.TrimStart('#')).CreatedAt(Created);
        configure(b, this);
        string stamp = Created.AddMinutes(minutes).ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture);
        return b.Set("updated_at", stamp).Set("edited_at", stamp);
    }
}
