using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>What differs between the integration harnesses built on <see cref="IntegrationHarness"/>.</summary>
internal sealed class IntegrationHarnessOptions
{
    /// <summary>Prefix of this harness's own Azurite tables (letters only, short).</summary>
    public string TablePrefix { get; init; } = "t";

    /// <summary>Also sets the Fulfil posting accounts and exchange channel (the outcome stages need them).</summary>
    public bool FulfilPostingSettings { get; init; }

    /// <summary>Settings on top of the shared ones (sandboxes, webhook secret, fast HTTP retries).</summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>A test's own overrides, applied last.</summary>
    public IDictionary<string, string?>? Overrides { get; init; }

    /// <summary>Wraps the Azurite table store (fault injection into the ledger).</summary>
    public Func<ITableStore, ITableStore>? WrapStore { get; init; }

    /// <summary>
    /// When set: the services' <see cref="TimeProvider"/> and both sandboxes' clock (so their stamps agree with the
    /// ledger's); HTTP retries, timeouts and the Loop limiter keep the system clock (nothing advances a test clock
    /// while a call waits). Otherwise the registrations' default and the sandboxes' system clock.
    /// </summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>Receives every log entry at every level when set (otherwise warnings and above go nowhere).</summary>
    public ILoggerProvider? Logs { get; init; }

    /// <summary>What the services send through; the bus itself when not set.</summary>
    public Func<InProcessBus, IMessageSender>? Sender { get; init; }

    /// <summary>The feature registrations (AddLoopFulfilReturns and so on) after the Fulfil, Loop and webhook clients.</summary>
    public Action<IServiceCollection, IConfiguration> AddFeatures { get; init; } = (_, _) => { };
}

/// <summary>
/// The returns path wired as a host wires it, over real parts: the Fulfil and Loop sandboxes over HTTP, Azurite tables
/// of the harness's own, the real clients and webhook ingress from the real DI registrations, and <see cref="InProcessBus"/>
/// standing in for Service Bus. The feature harnesses (returns, outcomes, reconciliation) derive from it.
/// </summary>
internal abstract class IntegrationHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    protected IntegrationHarness(IntegrationParts parts)
    {
        Fulfil = parts.Fulfil;
        Loop = parts.Loop;
        _services = parts.Services;
        Bus = parts.Bus;
    }

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    public InProcessBus Bus { get; }

    public IServiceProvider Services => _services;

    public ReturnLedger Ledger => _services.GetRequiredService<ReturnLedger>();

    /// <summary>
    /// The Fulfil settings for the sandbox's demo data. <paramref name="postingSettings"/> adds the posting accounts,
    /// the exchange channel and priority that the outcome stages use.
    /// </summary>
    public static Dictionary<string, string?> FulfilSettings(FulfilSandbox fulfil, bool postingSettings)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = fulfil.ApiKey,
            ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.QuarantineLocationCode,
            ["Fulfil:SellableLocationCode"] = FulfilSandboxDemo.SellableLocationCode,
            ["Fulfil:DamagedLocationCode"] = FulfilSandboxDemo.DamagedLocationCode,
            ["Fulfil:JournalId"] = FulfilSandboxDemo.MiscJournalId.ToString(CultureInfo.InvariantCulture),
        };
        if (postingSettings)
        {
            settings["Fulfil:ReturnsClearingAccountCode"] = FulfilSandboxDemo.ReturnsClearingAccountCode;
            settings["Fulfil:GiftCardLiabilityAccountCode"] = FulfilSandboxDemo.GiftCardLiabilityAccountCode;
            settings["Fulfil:ExchangeChannelId"] = FulfilSandboxDemo.ExchangeChannelId.ToString(CultureInfo.InvariantCulture);
            settings["Fulfil:ExchangePriority"] = "1";
        }

        return settings;
    }

    /// <summary>Starts both sandboxes and composes the services over Azurite; the caller owns the parts.</summary>
    protected static async Task<IntegrationParts> StartPartsAsync(IntegrationHarnessOptions options)
    {
        var sandboxClock = options.Clock ?? TimeProvider.System;
        var fulfil = await FulfilSandbox.StartAsync(new FulfilSandboxOptions { TimeProvider = sandboxClock });
        var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false, TimeProvider = sandboxClock });
        // A table prefix of its own: the ledger ("returns") and exception tables of this test are nobody else's.
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName(options.TablePrefix));
        if (options.WrapStore is not null)
        {
            store = options.WrapStore(store);
        }

        var settings = FulfilSettings(fulfil, options.FulfilPostingSettings);
        settings["Fulfil:SaleLookup"] = nameof(FulfilSaleLookup.OrderName);
        settings["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString();
        settings["Loop:ApiKey"] = loop.ApiKey;
        settings["Webhooks:Secret"] = WebhookTestKit.Secret;
        // Quick retries inside one delivery; the bus redelivers beyond that, as Service Bus would.
        settings["HttpResilience:MaxRetryAttempts"] = "2";
        settings["HttpResilience:BaseDelay"] = "00:00:00.010";
        settings["HttpResilience:MaxDelay"] = "00:00:00.050";
        settings["HttpResilience:MaxRetryAfter"] = "00:00:01";
        settings["HttpResilience:CircuitBreakerEnabled"] = "false";
        foreach (var (key, value) in options.Settings.Concat(options.Overrides ?? new Dictionary<string, string?>()))
        {
            settings[key] = value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var bus = new InProcessBus();
        var collection = new ServiceCollection();
        collection.AddLogging(b =>
        {
            b.SetMinimumLevel(options.Logs is null ? LogLevel.Warning : LogLevel.Trace);
            if (options.Logs is not null)
            {
                b.AddProvider(options.Logs);
            }
        });
        if (options.Clock is not null)
        {
            UseClock(collection, options.Clock);
        }

        collection.AddSingleton(store);
        collection.AddSingleton<IBlobStore>(await AzuriteTestServer.CreateBlobStoreAsync());
        collection.AddSingleton(options.Sender?.Invoke(bus) ?? bus);
        collection.AddLoopFulfilHttpResilience(configuration);
        collection.AddLoopFulfilFulfil(configuration);
        collection.AddLoopFulfilLoop(configuration);
        collection.AddLoopFulfilExceptions(configuration);
        collection.AddLoopFulfilSkus();
        collection.AddLoopFulfilWebhooks(configuration);
        options.AddFeatures(collection, configuration);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new IntegrationParts(fulfil, loop, provider, bus);
    }

    /// <summary>
    /// Registers <paramref name="clock"/> as the services' <see cref="TimeProvider"/>, before the clients (which only
    /// TryAdd these): HTTP retries, timeouts and the Loop limiter keep real timers (nothing advances a test clock while a call waits).
    /// </summary>
    public static void UseClock(IServiceCollection collection, TimeProvider clock)
    {
        collection.AddSingleton(clock);
        collection.AddSingleton(sp => new HttpResiliencePipelineProvider(
            sp.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>(), TimeProvider.System, sp.GetRequiredService<ILoggerFactory>()));
        collection.AddSingleton(sp =>
        {
            var loopOptions = sp.GetRequiredService<IOptions<LoopOptions>>();
            var shared = loopOptions.Value.SharedRateLimit ? sp.GetRequiredService<ITableStore>() : null;
            return new LoopRateLimiter(loopOptions, TimeProvider.System, shared, sp.GetService<ILogger<LoopRateLimiter>>());
        });
    }

    /// <summary>Delivers a signed webhook through the ingress (which enqueues onto the bus); asserts Loop would get 202.</summary>
    public async Task PostWebhookAsync(byte[] body)
    {
        var ingress = _services.GetRequiredService<WebhookIngress>();
        var response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Bus, CancellationToken.None);
        Assert.Equal(202, response.StatusCode);
    }

    /// <summary>Delivers every queued <c>loop-returns</c> message to a freshly resolved handler (one per delivery, like a function invocation).</summary>
    public Task<IReadOnlyList<BusDelivery>> DrainReturnsAsync() => Bus.DrainAsync(async (message, ct) =>
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
    });

    /// <summary>Messages waiting on loop-exchanges (taken off the bus); other queues' messages stay.</summary>
    public IReadOnlyList<OutboundMessage> TakeExchangeMessages()
    {
        var taken = new List<OutboundMessage>();
        var others = new List<OutboundMessage>();
        while (Bus.OtherQueues.TryDequeue(out var m))
        {
            (m.Queue == QueueNames.LoopExchanges ? taken : others).Add(m);
        }

        foreach (var m in others)
        {
            Bus.OtherQueues.Enqueue(m);
        }

        return taken;
    }

    /// <summary>Delivers one loop-exchanges message to a freshly resolved handler, redelivering on transient errors.</summary>
    protected async Task<ExchangeHandlingResult> DeliverExchangeOnceAsync(OutboundMessage message)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = _services.CreateAsyncScope();
                return await scope.ServiceProvider.GetRequiredService<ExchangeOrderHandler>()
                    .HandleAsync(new InboundMessage(message.Body, message.MessageId, message.SessionId, attempt, message.Properties), CancellationToken.None);
            }
            catch (TransientIntegrationException ex) when (attempt < 10)
            {
                Bus.WaitOut(ex);
            }
        }
    }

    /// <summary>Return orders in the Fulfil sandbox whose channel_identifier is the Loop return id.</summary>
    public IReadOnlyList<FulfilSandboxRecord> ReturnOrders(string returnId) =>
        Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel_identifier"), returnId) && Equals(r.GetValueOrDefault("is_return"), true));

    public IReadOnlyList<FulfilSandboxRecord> CreditNotes(string returnId) =>
        Fulfil.State.Where("account.invoice", i => Equals(i.GetValueOrDefault("reference"), $"LOOP-{returnId}-CN"));

    /// <summary>Every exception record of this test (its own tables), of every status.</summary>
    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (var r in _services.GetRequiredService<ExceptionService>().ListAsync(null, null, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Fulfil.DisposeAsync();
        await Loop.DisposeAsync();
    }
}

/// <summary>What <see cref="IntegrationHarness"/> starts: both sandboxes, the composed services and the bus.</summary>
internal sealed record IntegrationParts(FulfilSandbox Fulfil, LoopSandbox Loop, ServiceProvider Services, InProcessBus Bus);
