using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// One crafted sandbox state reconciled on three consecutive days, shared by the report tests (built once per class):
/// a clean mixed return (refund + store credit + exchange), a hand-posted credit note for 45.00 against a 50.00
/// refund, an open return whose return order never reached Fulfil (self-heal off, so it needs a person), and a
/// credit note for a return Loop does not know.
/// </summary>
public sealed class ReportScenario : IAsyncLifetime
{
    private ReconciliationHarness? _harness;

    public ReconciliationReport Report { get; private set; } = null!;

    public string Html { get; private set; } = "";

    public string Csv { get; private set; } = "";

    public string ShortPaidReturnId { get; private set; } = "";

    public string MissingOrderReturnId { get; private set; } = "";

    public string OrphanReturnId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var h = _harness = await ReconciliationHarness.StartAsync(new Dictionary<string, string?> { ["Reconciliation:SelfHeal"] = "false" });
        var today = ReconciliationHarness.Today;

        var mixed = new ReconReturn("#1001", (b, x) => b
            .WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1), providerLineItemId: "p1")
            .WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(2), providerLineItemId: "p1")
            .WithLine("HOOD/GRY:XL", 79.99m, lineItemId: x.Line(3), providerLineItemId: "p2")
            .WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m)
            .WithGiftCard(50.00m)
            .WithOutcome("exchange+credit+refund"));
        mixed.InLoop(h.Loop);
        await h.SendAsync(mixed.CreatedWebhook());
        mixed.InLoop(h.Loop, "closed", 120);
        await h.SendAsync(mixed.ClosedWebhook());

        var shortPaid = new ReconReturn("#1002", (b, x) => b.WithLine("JEANS-32/32", 50.00m, lineItemId: x.Line(1)));
        ShortPaidReturnId = shortPaid.ReturnId;
        await h.SendAsync(shortPaid.CreatedWebhook());
        shortPaid.InLoop(h.Loop, "closed", 120);
        h.Fulfil.State.AddCreditNote($"LOOP-{shortPaid.ReturnId}-CN", h.PartyA, today, "posted", ("Loop refund", -1m, 45.00m));
        // The refund payment itself was right (docs/accounting.md row 1): only the credit note is short.
        h.Fulfil.State.AddJournalEntry($"LOOP-{shortPaid.ReturnId}-RF", today, "posted", (FulfilSandboxDemo.ReceivableAccountCode, 50.00m, 0m), (FulfilSandboxDemo.ReturnsClearingAccountCode, 0m, 50.00m));

        var lost = new ReconReturn("#1003", (b, x) => b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1))).InLoop(h.Loop);
        MissingOrderReturnId = lost.ReturnId;

        OrphanReturnId = LoopReturnBuilder.NextId();
        h.Fulfil.State.AddCreditNote($"LOOP-{OrphanReturnId}-CN", h.PartyA, today, "posted", ("refund", -1m, 12.00m));

        // Three daily runs: the chart gets three days.
        await h.ReconcileAsync();
        h.Clock.Advance(TimeSpan.FromDays(1));
        await h.ReconcileAsync();
        h.Clock.Advance(TimeSpan.FromDays(1));
        await h.ReconcileAsync();

        Report = (await h.Reports.GetLatestAsync(CancellationToken.None))!;
        Html = h.Reports.RenderHtml(Report);
        Csv = ReconciliationReports.RenderCsv(Report);
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }
}
