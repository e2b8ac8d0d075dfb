using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The returns path wired as a host wires it, over real parts: the Fulfil and Loop sandboxes over HTTP, Azurite tables,
/// the webhook ingress, the exception service and <see cref="ReturnEventHandler"/> resolved from the real DI
/// registrations. <see cref="Bus"/> stands in for Service Bus: it takes the ingress's messages and delivers them
/// to the handler, redelivering when the handler throws a transient error.
/// </summary>
internal sealed class ReturnsHarness : IAsyncDisposable
{
    private readonly ServiceProvider services;

    private ReturnsHarness(FulfilSandbox fulfil, LoopSandbox loop, ServiceProvider services, InProcessBus bus)
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

    public ExceptionService Exceptions => services.GetRequiredService<ExceptionService>();

    public SkuExceptionRechecker Rechecker => services.GetRequiredService<SkuExceptionRechecker>();

    public ReturnLedger Ledger => services.GetRequiredService<ReturnLedger>();

    public IFulfilClient FulfilClient => services.GetRequiredService<IFulfilClient>();

    public int QuarantineId => Fulfil.State.LocationId(Demo.Quarantine);

    /// <param name="flagReturnInLoop">ExceptionOptions.FlagReturnInLoop.</param>
    /// <param name="wrapStore">Wraps the Azurite table store (fault injection into the ledger).</param>
    public static async Task<ReturnsHarness> StartAsync(bool flagReturnInLoop = false, Func<ITableStore, ITableStore>? wrapStore = null)
    {
        FulfilSandbox fulfil = await FulfilSandbox.StartAsync();
        LoopSandbox loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        // A table prefix of its own: the ledger ("returns") and exception tables of this test are nobody else's.
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("r"));
        if (wrapStore is not null)
        {
            store = wrapStore(store);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = fulfil.ApiKey,
            ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.QuarantineLocationCode,
            ["Fulfil:SellableLocationCode"] = FulfilSandboxDemo.SellableLocationCode,
            ["Fulfil:DamagedLocationCode"] = FulfilSandboxDemo.DamagedLocationCode,
            ["Fulfil:JournalId"] = FulfilSandboxDemo.MiscJournalId.ToString(CultureInfo.InvariantCulture),
            ["Fulfil:SaleLookup"] = nameof(FulfilSaleLookup.OrderName),
            ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = loop.ApiKey,
            ["Webhooks:Secret"] = WebhookTestKit.Secret,
            ["Exceptions:FlagReturnInLoop"] = flagReturnInLoop ? "true" : "false",
            // Quick retries inside one delivery; the bus redelivers beyond that, as Service Bus would.
            ["HttpResilience:MaxRetryAttempts"] = "2",
            ["HttpResilience:BaseDelay"] = "00:00:00.010",
            ["HttpResilience:MaxDelay"] = "00:00:00.050",
            ["HttpResilience:MaxRetryAfter"] = "00:00:01",
            ["HttpResilience:CircuitBreakerEnabled"] = "false",
        };
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
        ServiceProvider provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new ReturnsHarness(fulfil, loop, provider, bus);
    }

    /// <summary>Delivers a signed webhook through the ingress (which enqueues onto the bus); asserts Loop would get 202.</summary>
    public async Task PostWebhookAsync(byte[] body)
    {
        WebhookIngress ingress = services.GetRequiredService<WebhookIngress>();
        WebhookResponse response = await ingress.HandleAndSendAsync(IngressHarness.Request(body, WebhookTestKit.Sign(body)), Bus, CancellationToken.None);
        Assert.Equal(202, response.StatusCode);
    }

    /// <summary>Posts the webhook and delivers everything queued, as the Functions host would.</summary>
    public async Task<IReadOnlyList<BusDelivery>> SendAsync(byte[] body)
    {
        await PostWebhookAsync(body);
        return await DrainAsync();
    }

    /// <summary>Delivers every queued <c>loop-returns</c> message to a freshly resolved handler (one per delivery, like a function invocation).</summary>
    public Task<IReadOnlyList<BusDelivery>> DrainAsync() => Bus.DrainAsync(async (message, ct) =>
    {
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnEventHandler>().HandleAsync(message, ct);
    });

    /// <summary>Return orders in the Fulfil sandbox whose channel_identifier is the Loop return id.</summary>
    public IReadOnlyList<FulfilSandboxRecord> ReturnOrders(string returnId) =>
        Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel_identifier"), returnId) && Equals(r.GetValueOrDefault("is_return"), true));

    public IReadOnlyList<FulfilSandboxRecord> LinesOf(int saleId) =>
        Fulfil.State.Where("sale.line", r => Equals(r.GetValueOrDefault("sale"), saleId));

    /// <summary>Every exception record of this test (its own tables), of every status.</summary>
    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionRecordsAsync()
    {
        var records = new List<ExceptionRecord>();
        await foreach (ExceptionRecord r in Exceptions.ListAsync(null, null, CancellationToken.None))
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

/// <summary>One delivery attempt made by <see cref="InProcessBus"/>.</summary>
internal sealed record BusDelivery(string MessageId, string? SessionId, int DeliveryCount, ReturnHandlingResult? Result, Exception? Error);

/// <summary>
/// Service Bus in miniature: a FIFO of <c>loop-returns</c> messages; a delivery that throws a transient error is
/// abandoned and delivered again (DeliveryCount + 1) before anything behind it, as a session would; after
/// <see cref="MaxDeliveryCount"/> it is dead-lettered. Any other exception escaping the handler fails the test.
/// Duplicate detection is deliberately off: the handler must be idempotent on its own.
/// </summary>
internal sealed class InProcessBus : IMessageSender
{
    private readonly LinkedList<(OutboundMessage Message, int DeliveryCount)> pending = new();
    private readonly Lock gate = new();

    public int MaxDeliveryCount { get; set; } = 10;

    public ConcurrentQueue<OutboundMessage> OtherQueues { get; } = new();

    public ConcurrentQueue<BusDelivery> Deliveries { get; } = new();

    public ConcurrentQueue<OutboundMessage> DeadLettered { get; } = new();

    public int Pending
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Queue == QueueNames.LoopReturns)
        {
            lock (gate)
            {
                pending.AddLast((message, 0));
            }
        }
        else
        {
            OtherQueues.Enqueue(message);
        }

        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<BusDelivery>> DrainAsync(Func<InboundMessage, CancellationToken, Task<ReturnHandlingResult>> handle)
    {
        var made = new List<BusDelivery>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            (OutboundMessage Message, int DeliveryCount) next;
            lock (gate)
            {
                if (pending.First is null)
                {
                    return made;
                }

                next = pending.First.Value;
                pending.RemoveFirst();
            }

            int count = next.DeliveryCount + 1;
            OutboundMessage m = next.Message;
            var inbound = new InboundMessage(m.Body, m.MessageId, m.SessionId, count, m.Properties);
            BusDelivery delivery;
            try
            {
                ReturnHandlingResult result = await handle(inbound, timeout.Token);
                delivery = new BusDelivery(m.MessageId, m.SessionId, count, result, null);
            }
            catch (Exception ex) when (IsTransient(ex, timeout.Token))
            {
                delivery = new BusDelivery(m.MessageId, m.SessionId, count, null, ex);
                if (count >= MaxDeliveryCount)
                {
                    DeadLettered.Enqueue(m);
                }
                else
                {
                    lock (gate)
                    {
                        pending.AddFirst((m, count));
                    }
                }
            }

            made.Add(delivery);
            Deliveries.Enqueue(delivery);
        }
    }

    private static bool IsTransient(Exception ex, CancellationToken token) =>
        ex is TransientIntegrationException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && !token.IsCancellationRequested);
}

/// <summary>
/// Simulates a crash between the Fulfil create and the ledger's "done" record: the first time the named step is
/// about to be marked done, the write fails as a dropped connection would.
/// </summary>
internal sealed class FailStepDoneOnceStore(ITableStore inner, string step) : ITableStore
{
    private int failed;

    public int Failures => Volatile.Read(ref failed);

    public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        if (table == ReturnLedger.Table && entity.RowKey == "step:" + step && entity.GetString("Status") == StepStatus.Done
            && Interlocked.CompareExchange(ref failed, 1, 0) == 0)
        {
            throw new TransientIntegrationException("Injected crash: the process died before recording the step.");
        }

        return inner.UpdateAsync(table, entity, mode, cancellationToken);
    }

    public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => inner.CreateTableIfNotExistsAsync(table, cancellationToken);

    public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

    public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => inner.InsertAsync(table, entity, cancellationToken);

    public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpsertAsync(table, entity, mode, cancellationToken);

    public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

    public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => inner.QueryAsync(table, filter, cancellationToken);

    public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => inner.SubmitBatchAsync(table, operations, cancellationToken);
}
