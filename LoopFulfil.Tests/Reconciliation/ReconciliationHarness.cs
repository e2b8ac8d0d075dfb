using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Reconciliation;
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

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// The whole returns path (returns + outcomes) plus reconciliation, wired as a host wires it, over the Fulfil and Loop
/// sandboxes (HTTP), Azurite tables of its own, and the returns harness's <see cref="InProcessBus"/> (no duplicate
/// detection: idempotency must come from the handlers). <see cref="Clock"/> shifts "now" for the ledger, exception
/// service and reconciliation; the sandboxes keep the real clock.
/// </summary>
internal sealed class ReconciliationHarness : IAsyncDisposable
{
    /// <summary>Loop returns of these tests are updated from here (see <see cref="ReconReturn"/>).</summary>
    public static readonly DateTimeOffset WindowStart = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider services;

    private ReconciliationHarness(FulfilSandbox fulfil, LoopSandbox loop, ServiceProvider services, InProcessBus bus, ShiftedTimeProvider clock, RecordingSender sent)
    {
        Sent = sent;
        Fulfil = fulfil;
        Loop = loop;
        this.services = services;
        Bus = bus;
        Clock = clock;
    }

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    public InProcessBus Bus { get; }

    public ShiftedTimeProvider Clock { get; }

    /// <summary>Every message the services sent (webhook messages go to the bus directly and are not here).</summary>
    public RecordingSender Sent { get; }

    public IServiceProvider Services => services;

    public ReturnLedger Ledger => services.GetRequiredService<ReturnLedger>();

    public ReconciliationReports Reports => services.GetRequiredService<ReconciliationReports>();

    public int PartyA => Fulfil.State.Get("sale.sale", Assert.Single(Fulfil.State.FindByReference("sale.sale", "#1001")).Id).Ref("party")!.Value;

    public static async Task<ReconciliationHarness> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        FulfilSandbox fulfil = await FulfilSandbox.StartAsync();
        LoopSandbox loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("rc"));
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
        var clock = new ShiftedTimeProvider();
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        collection.AddSingleton<TimeProvider>(clock);
        collection.AddSingleton(store);
        var recorder = new RecordingSender(bus);
        collection.AddSingleton<IMessageSender>(recorder);
        collection.AddLoopFulfilDiagnostics();
        collection.AddLoopFulfilFulfil(configuration);
        collection.AddLoopFulfilLoop(configuration);
        collection.AddLoopFulfilWebhooks(configuration);
        collection.AddLoopFulfilReturns(configuration);
        collection.AddLoopFulfilOutcomes(configuration);
        collection.AddLoopFulfilReconciliation(configuration);
        ServiceProvider provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new ReconciliationHarness(fulfil, loop, provider, bus, clock, recorder);
    }

    /// <summary>Signs and posts the webhook through the ingress, then delivers everything queued (returns and exchanges).</summary>
    public async Task SendAsync(byte[] body)
    {
        await PostWebhookAsync(body);
        await DrainAsync();
    }

    /// <summary>Signs and posts the webhook through the ingress (Loop would get 202); delivers nothing.</summary>
    public async Task PostWebhookAsync(byte[] body)
    {
        WebhookIngress ingress = services.GetRequiredService<WebhookIngress>();
        WebhookResponse response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Bus, CancellationToken.None);
        Assert.Equal(202, response.StatusCode);
    }

    /// <summary>Delivers the queued loop-returns messages only (loop-exchanges messages stay queued).</summary>
    public Task<IReadOnlyList<BusDelivery>> DrainReturnsAsync() => Bus.DrainAsync(async (message, ct) =>
    {
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
    });

    /// <summary>Delivers loop-returns and loop-exchanges until both are empty (an exchange enqueues a return message).</summary>
    public async Task DrainAsync()
    {
        for (int round = 0; round < 10; round++)
        {
            await DrainReturnsAsync();
            IReadOnlyList<OutboundMessage> exchanges = TakeExchangeMessages();
            if (exchanges.Count == 0)
            {
                return;
            }

            foreach (OutboundMessage m in exchanges)
            {
                await DeliverExchangeAsync(m);
            }
        }
    }

    public async Task DeliverExchangeAsync(OutboundMessage message)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using AsyncServiceScope scope = services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ExchangeOrderHandler>()
                    .HandleAsync(new InboundMessage(message.Body, message.MessageId, message.SessionId, attempt, message.Properties), CancellationToken.None);
                return;
            }
            catch (TransientIntegrationException) when (attempt < 10)
            {
            }
        }
    }

    /// <summary>Messages waiting on loop-exchanges (taken off the bus); other queues' messages stay.</summary>
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

    /// <summary>A run over every test return (updated from <see cref="WindowStart"/>) and the documents created up to now.</summary>
    public async Task<ReconciliationReport> ReconcileAsync(ReconciliationMode mode = ReconciliationMode.Daily)
    {
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReconciliationJob>().RunAsync(WindowStart, Clock.GetUtcNow().AddHours(1), mode, CancellationToken.None);
    }

    public IReadOnlyList<FulfilSandboxRecord> ReturnOrders(string returnId) =>
        Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel_identifier"), returnId) && Equals(r.GetValueOrDefault("is_return"), true));

    public IReadOnlyList<FulfilSandboxRecord> CreditNotes(string returnId) =>
        Fulfil.State.Where("account.invoice", i => Equals(i.GetValueOrDefault("reference"), $"LOOP-{returnId}-CN"));

    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (ExceptionRecord r in services.GetRequiredService<ExceptionService>().ListAsync(null, null, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        await Fulfil.DisposeAsync();
        await Loop.DisposeAsync();
    }
}

/// <summary>Records what the services send, then hands it to the bus.</summary>
internal sealed class RecordingSender(InProcessBus bus) : IMessageSender
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<OutboundMessage> sent = new();

    public IReadOnlyList<OutboundMessage> Messages => [.. sent];

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        sent.Enqueue(message);
        return bus.SendAsync(message, cancellationToken);
    }
}

/// <summary>The real clock moved by <see cref="Advance"/>: timers and timestamps stay real, so HTTP retries still run.</summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    private long offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);
}

/// <summary>
/// A Loop return of these tests (against the Fulfil demo sales), with stable line ids so every webhook of it carries
/// the same lines; <c>configure</c> adds lines and money with <see cref="LoopReturnBuilder"/>. Updated in March 2025.
/// </summary>
internal sealed class ReconReturn
{
    public static readonly DateTimeOffset Created = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    private static long next = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 1_000_000_000 * 100) + 7;
    private readonly Action<LoopReturnBuilder, ReconReturn> configure;

    public ReconReturn(string orderName, Action<LoopReturnBuilder, ReconReturn> configure)
    {
        ReturnId = Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture);
        OrderName = orderName;
        this.configure = configure;
    }

    public string ReturnId { get; }

    public string OrderName { get; }

    public string Line(int n) => ReturnId + n.ToString("00", CultureInfo.InvariantCulture);

    public JsonObject Json(string state, int minutes) => Builder(null, state, minutes).BuildJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Builder(trigger, state, minutes).BuildBytes();

    public byte[] CreatedWebhook() => Webhook("return.created", "open", 0);

    public byte[] ClosedWebhook() => Webhook("return.closed", "closed", 120);

    /// <summary>Puts the return into the Loop sandbox as Loop holds it now (no webhook sent).</summary>
    public ReconReturn InLoop(LoopSandbox loop, string state = "open", int minutes = 0)
    {
        loop.AddReturn(Json(state, minutes), sendCreatedWebhook: false);
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
