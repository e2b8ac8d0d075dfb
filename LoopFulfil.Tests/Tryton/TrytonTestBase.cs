using System.Text.Json;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// What every Tryton test class opens with: the shared engine (<see cref="TrytonFixture"/>), the harness on it, the
/// shop's tee at 25.00 with Tryton's 10% sales tax, an original order made and shipped through Tryton's workflow for
/// each return, and Tryton's decimals. Each derived class still carries <c>[Collection(TrytonTests.Name)]</c>
/// (xunit 2 reads the attribute from the test class itself).
/// </summary>
public abstract class TrytonTestBase(TrytonFixture fixture)
{
    protected const string Tee = "TEE-BLK-M";
    protected const string TeeL = "TEE-BLK-L";
    protected const decimal Price = 25.00m;
    protected const decimal Tax = 2.50m;

    private protected Task<TrytonHarness> StartAsync(IDictionary<string, string?>? overrides = null, FaultInjection? faults = null, FakeTimeProvider? clock = null) =>
        TrytonHarness.StartAsync(fixture.Engine, overrides, faults, clock);

    /// <summary>
    /// A Loop return on a fresh Tryton sale of <paramref name="sold"/> (one <see cref="Tee"/> at <see cref="Price"/>
    /// when none), made, invoiced and shipped by Tryton, so each test's return meets an order of its own.
    /// </summary>
    private protected static async Task<(OutcomeReturn Return, int SaleId)> ReturnAsync(TrytonHarness h, Action<Builders.LoopReturnBuilder, OutcomeReturn> configure, params (string Sku, decimal Quantity, decimal Price)[] sold)
    {
        var orderName = TrytonHarness.UniqueOrderName();
        var sale = await h.CreateShippedSaleAsync(orderName, "Demo Customer A", sold.Length == 0 ? [(Tee, 1m, Price)] : sold);
        return (new OutcomeReturn(orderName, configure).AddTo(h.Loop), sale);
    }

    private static readonly string[] Accounts =
    [
        TrytonEngine.Codes.Receivable, TrytonEngine.Codes.Revenue, TrytonEngine.Codes.Tax, TrytonEngine.Codes.ReturnsClearing,
        TrytonEngine.Codes.GiftCardLiability, TrytonEngine.Codes.HandlingFees, TrytonEngine.Codes.Expense,
    ];

    /// <summary>Tryton's balance (debit − credit) of each account the returns post to.</summary>
    private protected static async Task<Dictionary<string, decimal>> BalancesAsync(TrytonHarness h)
    {
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var code in Accounts)
        {
            balances[code] = await h.Balance(code);
        }

        return balances;
    }

    /// <summary>What each account moved between two readings.</summary>
    protected static Dictionary<string, decimal> Delta(Dictionary<string, decimal> before, Dictionary<string, decimal> after) =>
        after.ToDictionary(kv => kv.Key, kv => kv.Value - before[kv.Key], StringComparer.Ordinal);

    /// <summary>A decimal as Tryton's JSON encodes it (<c>{"__class__": "Decimal", …}</c>).</summary>
    protected static decimal Dec(JsonElement row, string field) => row.GetProperty(field).Deserialize<decimal>(TrytonJson.Options);
}
