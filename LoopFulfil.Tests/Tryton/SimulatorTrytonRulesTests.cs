using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Fulfil;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// Rules the real engine (Tryton 6.0 behind the façade) enforced that the simulator did not: the simulator now refuses
/// the same requests, so the fast tests catch a regression without Tryton.
/// </summary>
public sealed class SimulatorTrytonRulesTests
{
    private static readonly DateOnly Day = new(2025, 3, 3);

    [Fact]
    public async Task Simulator_refuses_a_party_on_a_journal_line_whose_account_takes_none_as_tryton_does()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var clearing = host.Sandbox.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode);
        var liability = host.Sandbox.State.AccountId(FulfilSandboxDemo.GiftCardLiabilityAccountCode);
        var customer = host.Sandbox.State.Where("party.party", _ => true)[0].Id;

        var refused = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Http.CreateAsync("account.move", [Move(clearing, liability, customer)]));

        Assert.Contains("remove the party", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Journal_entry_keeps_the_customer_only_on_lines_of_accounts_that_take_a_party()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var clearing = host.Sandbox.State.AccountId(FulfilSandboxDemo.ReturnsClearingAccountCode);
        var liability = host.Sandbox.State.AccountId(FulfilSandboxDemo.GiftCardLiabilityAccountCode);
        var customer = host.Sandbox.State.Where("party.party", _ => true)[0].Id;

        var entry = await host.Client.CreateJournalEntryAsync(new FulfilJournalEntryRequest("LOOP-PARTY-SC", Day,
            [new FulfilJournalLine(clearing, 10m, 0m, null, "store credit"), new FulfilJournalLine(liability, 0m, 10m, customer, "store credit")]));

        Assert.All(entry.Lines, l => Assert.Null(l.PartyId));
        Assert.Equal(10m, entry.Lines.Sum(l => l.Credit));
    }

    [Fact]
    public async Task Simulator_refuses_a_sale_line_without_its_unit_as_tryton_does()
    {
        await using var host = await FulfilTestHost.StartAsync();
        var party = host.Sandbox.State.Where("party.party", _ => true)[0].Id;
        var line = new Dictionary<string, object?> { ["type"] = "line", ["product"] = host.Sandbox.State.ProductId("TEE-BLK-M"), ["quantity"] = new TrytonFloat(1m), ["unit_price"] = 25.00m };
        var sale = new Dictionary<string, object?> { ["party"] = party, ["reference"] = "NO-UNIT", ["lines"] = new object[] { new object[] { "create", new[] { line } } } };

        var refused = await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Http.CreateAsync("sale.sale", [sale]));

        Assert.Contains("Unit", refused.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Move(int debitAccount, int creditAccount, int party) => new()
    {
        ["journal"] = FulfilSandboxDemo.MiscJournalId,
        ["date"] = Day,
        ["description"] = "LOOP-RAW-SC",
        ["lines"] = new object[]
        {
            new object[]
            {
                "create",
                new[]
                {
                    new Dictionary<string, object?> { ["account"] = debitAccount, ["debit"] = 10m, ["credit"] = 0m },
                    new Dictionary<string, object?> { ["account"] = creditAccount, ["debit"] = 0m, ["credit"] = 10m, ["party"] = party },
                },
            },
        },
    };
}
