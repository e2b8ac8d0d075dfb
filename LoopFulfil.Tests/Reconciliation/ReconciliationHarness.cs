using System.Text.Json.Nodes;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// The whole returns path (returns + outcomes) plus reconciliation on <see cref="IntegrationHarness"/> (its bus has no
/// duplicate detection: idempotency must come from the handlers). <see cref="Clock"/> is "now" for the ledger,
/// exception service, reconciliation and both sandboxes; it moves 1 ms each time it is read, so stamps strictly
/// increase as on a real clock, and tests move it on with <c>Advance</c>.
/// </summary>
internal sealed class ReconciliationHarness : IntegrationHarness
{
    /// <summary>Loop returns of these tests are updated from here (see <see cref="ReconReturn"/>).</summary>
    public static readonly DateTimeOffset WindowStart = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Where <see cref="Clock"/> starts: long after the test returns were updated.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The date of <see cref="Start"/> (documents the tests add to Fulfil themselves).</summary>
    public static readonly DateOnly Today = DateOnly.FromDateTime(Start.UtcDateTime);

    private ReconciliationHarness(IntegrationParts parts, FakeTimeProvider clock, RecordingSender sent)
        : base(parts)
    {
        Clock = clock;
        Sent = sent;
    }

    public FakeTimeProvider Clock { get; }

    /// <summary>Every message the services sent (webhook messages go to the bus directly and are not here).</summary>
    public RecordingSender Sent { get; }

    public ReconciliationReports Reports => Services.GetRequiredService<ReconciliationReports>();

    public int PartyA => Fulfil.State.Get("sale.sale", Assert.Single(Fulfil.State.FindByReference("sale.sale", "#1001")).Id).Ref("party")!.Value;

    public static async Task<ReconciliationHarness> StartAsync(IDictionary<string, string?>? overrides = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var clock = new FakeTimeProvider(Start) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        RecordingSender? recorder = null;
        var parts = await StartPartsAsync(new IntegrationHarnessOptions
        {
            TablePrefix = "rc",
            FulfilPostingSettings = true,
            Settings = OutcomesHarness.OutcomeSettings,
            Overrides = overrides,
            Clock = clock,
            Logs = logs,
            Sender = bus => recorder = new RecordingSender(bus),
            AddFeatures = (services, configuration) => services.AddLoopFulfilDiagnostics()
                .AddLoopFulfilReturns(configuration).AddOutcomeStages(configuration).AddLoopFulfilReconciliation(configuration),
        });
        return new ReconciliationHarness(parts, clock, recorder!);
    }

    /// <summary>Signs and posts the webhook through the ingress, then delivers everything queued (returns and exchanges).</summary>
    public async Task SendAsync(byte[] body)
    {
        await PostWebhookAsync(body);
        await DrainAsync();
    }

    /// <summary>Delivers loop-returns and loop-exchanges until both are empty (an exchange enqueues a return message).</summary>
    public async Task DrainAsync()
    {
        for (var round = 0; round < 10; round++)
        {
            await DrainReturnsAsync();
            var exchanges = TakeExchangeMessages();
            if (exchanges.Count == 0)
            {
                return;
            }

            foreach (var m in exchanges)
            {
                await DeliverExchangeAsync(m);
            }
        }
    }

    public Task DeliverExchangeAsync(OutboundMessage message) => DeliverExchangeOnceAsync(message);

    /// <summary>
    /// An even exchange (TEE-BLK-M for TEE-BLK-L on #1001) created and closed: its exchange message is handed to
    /// <c>loop-exchanges</c>, and the caller gets the messages waiting there (taken off the bus, not delivered).
    /// </summary>
    public async Task<(ReconReturn Return, IReadOnlyList<OutboundMessage> ExchangeMessages)> CloseEvenExchangeAsync()
    {
        var r = new ReconReturn("#1001", (b, x) => b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m));
        r.InLoop(Loop);
        await SendAsync(r.CreatedWebhook());
        r.InLoop(Loop, "closed", 120);
        await PostWebhookAsync(r.ClosedWebhook());
        await DrainReturnsAsync();
        return (r, TakeExchangeMessages());
    }

    /// <summary>A run over every test return (updated from <see cref="WindowStart"/>) and the documents created up to now.</summary>
    public async Task<ReconciliationReport> ReconcileAsync(ReconciliationMode mode = ReconciliationMode.Daily)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReconciliationJob>().RunAsync(WindowStart, Clock.GetUtcNow().AddHours(1), mode, CancellationToken.None);
    }
}

/// <summary>A Loop return of the reconciliation tests (a demo sale's, updated in March 2025); every body has the same ids.</summary>
internal sealed class ReconReturn(string orderName, Action<LoopReturnBuilder, ReconReturn> configure)
{
    public string ReturnId { get; } = LoopReturnBuilder.NextId();

    public string OrderName => orderName;

    public string Line(int n) => LoopReturnBuilder.LineId(ReturnId, n);

    public JsonObject Json(string state, int minutes) => Body(state, minutes).ReturnJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Body(state, minutes).Webhook(trigger);

    public byte[] CreatedWebhook() => Webhook("return.created", "open", 0);

    public byte[] ClosedWebhook() => Webhook("return.closed", "closed", 120);

    /// <summary>Puts the return into the Loop sandbox as Loop holds it now (no webhook sent).</summary>
    public ReconReturn InLoop(LoopSandbox loop, string state = "open", int minutes = 0)
    {
        Body(state, minutes).AddTo(loop);
        return this;
    }

    private LoopReturnBuilder Body(string state, int minutes) =>
        LoopReturnBuilder.ForDemoSale(orderName, ReturnId).AsOf(state, minutes).Configure(b => configure(b, this));
}
