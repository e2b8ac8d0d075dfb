using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Fulfil;

namespace LoopFulfil.Tests.Exchanges;

/// <summary>
/// The simulator reconciles receivable lines only as Tryton's <c>account.move.reconciliation</c> does
/// (<c>check_lines</c> and <c>Line.reconcile</c>): posted lines, not yet reconciled, one reconcilable account, one party,
/// debits equal to credits. So code that passes here cannot leave a half-settled receivable on the real engine.
/// </summary>
public sealed class SimulatorReconciliationRulesTests
{
    private static readonly DateOnly Day = new(2026, 11, 3);

    public static TheoryData<string, string> Refusals => new()
    {
        { "unbalanced", "unbalanced" },
        { "other party", "another party" },
        { "other account", "another account" },
        { "not posted", "not posted" },
        { "already reconciled", "already reconciled" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Simulator_refuses_a_reconciliation_tryton_refuses(string kind, string because)
    {
        await using var host = await FulfilTestHost.StartAsync();
        var (a, b) = Parties(host);
        var owed = await ReceivableLineAsync(host, "LOOP-R1-A", a, debit: 10m, post: true);
        var other = kind switch
        {
            "unbalanced" => await ReceivableLineAsync(host, "LOOP-R1-B", a, debit: -7m, post: true),
            "other party" => await ReceivableLineAsync(host, "LOOP-R1-B", b, debit: -10m, post: true),
            "other account" => ClearingLineOf(host, "LOOP-R1-A"),
            "not posted" => await ReceivableLineAsync(host, "LOOP-R1-B", a, debit: -10m, post: false),
            _ => await ReceivableLineAsync(host, "LOOP-R1-B", a, debit: -10m, post: true),
        };
        using var http = Http(host);
        var receivables = new FulfilReceivablesClient(http, Microsoft.Extensions.Options.Options.Create(host.Options), TimeProvider.System);
        if (kind == "already reconciled")
        {
            await receivables.ReconcileAsync("LOOP-R1-FIRST", [owed, other], Day);
            other = await ReceivableLineAsync(host, "LOOP-R1-C", a, debit: -10m, post: true);
        }

        var refused = await Assert.ThrowsAsync<FulfilUserErrorException>(() => receivables.ReconcileAsync("LOOP-R1-SETTLE", [owed, other], Day));

        Assert.Contains(because, refused.Message, StringComparison.Ordinal);
        Assert.Null(await receivables.FindReconciliationAsync("LOOP-R1-SETTLE"));
    }

    [Fact]
    public async Task Reconciled_lines_of_one_party_that_net_to_zero_are_found_by_their_name_and_leave_the_receivable_at_zero()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var (a, _) = Parties(host);
        var owed = await ReceivableLineAsync(host, "LOOP-R2-A", a, debit: 12.5m, post: true);
        var paid = await ReceivableLineAsync(host, "LOOP-R2-B", a, debit: -12.5m, post: true);
        using var http = Http(host);
        var receivables = new FulfilReceivablesClient(http, Microsoft.Extensions.Options.Options.Create(host.Options), TimeProvider.System);

        var made = await receivables.ReconcileAsync("LOOP-R2-SETTLE", [owed, paid], Day);

        var found = await receivables.FindReconciliationAsync("LOOP-R2-SETTLE");
        Assert.Equal(made.Id, found?.Id);
        Assert.Equal(new[] { owed, paid }.Order(), found!.LineIds.Order());
        Assert.All(await receivables.GetMoveLinesAsync([owed, paid]), l => Assert.Equal(made.Id, l.ReconciliationId));
        Assert.Equal(0m, host.Sandbox.State.Balance(FulfilSandboxDemo.ReceivableAccountCode, a));
    }

    private static HttpClient Http(FulfilTestHost host) => new() { BaseAddress = new Uri(host.Options.BaseUrl.TrimEnd('/') + "/") };

    private static (int A, int B) Parties(FulfilTestHost host)
    {
        var parties = host.Sandbox.State.All("party.party");
        return (parties[0].Id, parties[1].Id);
    }

    /// <summary>A journal entry with one line on the customer's receivable (debit when positive, else credit) against clearing; returns that line.</summary>
    private static async Task<int> ReceivableLineAsync(FulfilTestHost host, string reference, int party, decimal debit, bool post)
    {
        var receivable = host.Sandbox.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode);
        var clearing = host.Sandbox.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode);
        var amount = Math.Abs(debit);
        var entry = await host.Client.CreateJournalEntryAsync(new FulfilJournalEntryRequest(reference, Day, debit > 0
            ? [new FulfilJournalLine(receivable, amount, 0m, party, reference), new FulfilJournalLine(clearing, 0m, amount, null, reference)]
            : [new FulfilJournalLine(clearing, amount, 0m, null, reference), new FulfilJournalLine(receivable, 0m, amount, party, reference)]));
        if (post)
        {
            await host.Client.PostJournalEntryAsync(entry.Id);
        }

        return host.Sandbox.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), entry.Id) && Equals(l.GetValueOrDefault("account"), receivable)).Single().Id;
    }

    private static int ClearingLineOf(FulfilTestHost host, string reference)
    {
        var move = host.Sandbox.State.FindByReference("account.move", reference).Single().Id;
        var clearing = host.Sandbox.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode);
        return host.Sandbox.State.Where("account.move.line", l => Equals(l.GetValueOrDefault("move"), move) && Equals(l.GetValueOrDefault("account"), clearing)).Single().Id;
    }
}
