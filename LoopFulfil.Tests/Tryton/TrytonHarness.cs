using System.Globalization;
using System.Text.Json;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Skus;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Faults;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Outcomes;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// The returns path with the outcome stages, wired as a host wires it, with Fulfil being the real Tryton engine behind
/// the façade and Loop the simulated <see cref="LoopSandbox"/>. Reads Tryton's own records through the same REST
/// interface (<see cref="Rows"/>), never through the integration's bookkeeping.
/// </summary>
internal sealed class TrytonHarness : IAsyncDisposable
{
    private static readonly bool[] ActiveOrArchived = [true, false];
    private static long s_next = DateTimeOffset.UtcNow.ToUnixTimeSeconds() % 1_000_000;
    private readonly ServiceProvider _services;

    private TrytonHarness(TrytonEngine engine, LoopSandbox loop, ServiceProvider services, InProcessBus bus, FulfilHttp http, IReadOnlyDictionary<string, string?> settings, FaultProxy? proxy)
    {
        Engine = engine;
        Proxy = proxy;
        Settings = settings;
        Loop = loop;
        _services = services;
        Bus = bus;
        Http = http;
    }

    public TrytonEngine Engine { get; }

    /// <summary>The fault proxy between the integration's Fulfil client and the façade, when the test asked for faults.</summary>
    public FaultProxy? Proxy { get; }

    /// <summary>The host's configuration (the engine's Fulfil settings with the harness's and the caller's).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    public LoopSandbox Loop { get; }

    public InProcessBus Bus { get; }

    /// <summary>The façade, for reading Tryton's records and driving its workflows as a merchant's staff would.</summary>
    public FulfilHttp Http { get; }

    /// <summary>The integration's services (e.g. the Fulfil client, to book what another stage would).</summary>
    public IServiceProvider Services => _services;

    /// <param name="faults">
    /// When set, the integration reaches Tryton through a <see cref="FaultProxy"/> that injects this plan; the harness's
    /// own reads (<see cref="Http"/>) go straight to the façade.
    /// </param>
    /// <param name="clock">The services' clock (not Tryton's), which the bus advances past a wait a failed delivery asks for (<see cref="InProcessBus.Clock"/>).</param>
    public static async Task<TrytonHarness> StartAsync(TrytonEngine engine, IDictionary<string, string?>? overrides = null, FaultInjection? faults = null, FakeTimeProvider? clock = null)
    {
        var proxy = faults is null ? null : await FaultProxy.StartAsync(engine.BaseAddress, faults);
        var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("tr"));
        var settings = new Dictionary<string, string?>(engine.FulfilSettings, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in OutcomesHarness.OutcomeSettings)
        {
            settings[key] = value;
        }

        if (proxy is not null)
        {
            settings["Fulfil:BaseUrl"] = new Uri(proxy.BaseAddress, engine.BaseAddress.PathAndQuery).ToString();
        }

        settings["Refunds:HandlingFeeAccountCode"] = TrytonEngine.Codes.HandlingFees;
        settings["Refunds:GiftCardBonusAccountCode"] = TrytonEngine.Codes.Expense;
        settings["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString();
        settings["Loop:ApiKey"] = loop.ApiKey;
        settings["Webhooks:Secret"] = WebhookTestKit.Secret;
        settings["HttpResilience:MaxRetryAttempts"] = "2";
        settings["HttpResilience:BaseDelay"] = "00:00:00.010";
        settings["HttpResilience:MaxDelay"] = "00:00:00.050";
        settings["HttpResilience:CircuitBreakerEnabled"] = "false";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var bus = new InProcessBus { Clock = clock };
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        if (clock is not null)
        {
            IntegrationHarness.UseClock(collection, clock);
        }

        collection.AddSingleton(store);
        collection.AddSingleton<IBlobStore>(await AzuriteTestServer.CreateBlobStoreAsync());
        collection.AddSingleton<IMessageSender>(bus);
        collection.AddLoopFulfilHttpResilience(configuration);
        collection.AddLoopFulfilFulfil(configuration);
        collection.AddLoopFulfilLoop(configuration);
        collection.AddLoopFulfilExceptions(configuration);
        collection.AddLoopFulfilSkus();
        collection.AddLoopFulfilWebhooks(configuration);
        collection.AddLoopFulfilReturns(configuration).AddOutcomeStages(configuration);
        collection.AddLoopFulfilShadowMode(configuration);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var options = provider.GetRequiredService<IOptions<FulfilOptions>>().Value;
        var http = new FulfilHttp(new HttpClient { BaseAddress = engine.BaseAddress, Timeout = TimeSpan.FromSeconds(60) }, options);
        return new TrytonHarness(engine, loop, provider, bus, http, settings, proxy);
    }

    /// <summary>A reference no other test of this run or an earlier run on the same database uses.</summary>
    public static string UniqueOrderName() => "#T" + Interlocked.Increment(ref s_next).ToString(CultureInfo.InvariantCulture);

    /// <summary>Signs and posts the webhook through the ingress, then delivers everything queued on loop-returns.</summary>
    public async Task SendAsync(byte[] body)
    {
        var response = await _services.GetRequiredService<WebhookIngress>().HandleAndSendAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Bus, CancellationToken.None);
        Assert.Equal(202, response.StatusCode);
        await DrainAsync();
    }

    public Task<IReadOnlyList<BusDelivery>> DrainAsync() => Bus.DrainAsync(async (message, ct) =>
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
    });

    /// <summary>What the hosts' <c>POST /api/returns/{id}/inspection</c> does, then the queue delivery.</summary>
    public async Task InspectAsync(string returnId, params LineInspection[] lines)
    {
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<InspectionService>().SubmitAsync(returnId, lines, CancellationToken.None);
        await DrainAsync();
    }

    /// <summary>Delivers every loop-exchanges message once (redelivering on transient errors), then drains loop-returns.</summary>
    public async Task<IReadOnlyList<ExchangeHandlingResult>> DeliverExchangesAsync()
    {
        var results = new List<ExchangeHandlingResult>();
        while (Bus.OtherQueues.TryDequeue(out var message))
        {
            if (message.Queue != QueueNames.LoopExchanges)
            {
                continue;
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var scope = _services.CreateAsyncScope();
                    results.Add(await scope.ServiceProvider.GetRequiredService<ExchangeOrderHandler>()
                        .HandleAsync(new InboundMessage(message.Body, message.MessageId, message.SessionId, attempt, message.Properties), CancellationToken.None));
                    break;
                }
                catch (TransientIntegrationException ex) when (attempt < 10)
                {
                    Bus.WaitOut(ex);
                }
            }
        }

        await DrainAsync();
        return results;
    }

    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in _services.GetRequiredService<ExceptionService>().ListAsync(null, null, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    public Task<IReadOnlyList<JsonElement>> Rows(string model, object?[] domain, params string[] fields) =>
        Http.SearchReadAllAsync<JsonElement>(model, domain, ["id", .. fields]);

    public async Task<int> IdOf(string model, string field, string value) =>
        Assert.Single(await Rows(model, [new object[] { field, "=", value }])).GetProperty("id").GetInt32();

    /// <summary>The return sales Tryton holds for a Loop return (channel_identifier, origin = a sale).</summary>
    public Task<IReadOnlyList<JsonElement>> ReturnOrders(string returnId) =>
        Rows("sale.sale", [new object[] { "channel_identifier", "=", returnId }, new object?[] { "origin", "!=", null }], "state", "origin", "shipment_returns", "invoices", "total_amount");

    /// <summary>Customer invoices and credit notes of a sale (Tryton's sale ↔ invoice link).</summary>
    public Task<IReadOnlyList<JsonElement>> InvoicesOf(int saleId) =>
        Rows("account.invoice", [new object[] { "sales", "=", saleId }], "state", "number", "total_amount", "tax_amount", "reference", "type");

    /// <summary>On-hand quantity of a SKU in a location and its children, as Tryton computes it.</summary>
    public async Task<decimal> Stock(string sku, string locationCode)
    {
        var location = await IdOf("stock.location", "code", locationCode);
        var context = new Dictionary<string, object?> { ["locations"] = new[] { location }, ["with_childs"] = true };
        var rows = await Http.SearchReadAsync<JsonElement>("product.product", [new object[] { "code", "=", sku }, new object[] { "active", "in", ActiveOrArchived }], 0, 1, ["id", "quantity"], context);
        return Assert.Single(rows).GetProperty("quantity").GetDecimal();
    }

    /// <summary>An account's balance (debit − credit over posted and draft lines, Tryton's <c>balance</c>).</summary>
    public async Task<decimal> Balance(string accountCode)
    {
        var row = Assert.Single(await Rows("account.account", [new object[] { "code", "=", accountCode }], "balance"));
        return row.GetProperty("balance").Deserialize<decimal>(TrytonJson.Options);
    }

    /// <summary>
    /// A web-store order quoted, confirmed and processed by Tryton, its invoice posted and its goods shipped (the state
    /// most returns meet): every step is Tryton's own workflow, called through the façade (<see cref="TrytonSales"/>).
    /// </summary>
    public Task<int> CreateShippedSaleAsync(string reference, string customer, params (string Sku, decimal Quantity, decimal Price)[] lines) =>
        new TrytonSales(Http, Engine).CreateShippedSaleAsync(reference, "555" + reference.TrimStart('#'), customer, lines);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Loop.DisposeAsync();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
    }
}
