namespace LoopFulfil.Sandbox.Books;

/// <summary>
/// Where each account of docs/accounting.md is in the merchant's chart: receivable, revenue and tax are Fulfil's own
/// (the party's, the product's, the tax's); the others are the integration's settings. Two accounts may share a code
/// (the shipping-fee account defaults to the handling-fee one), so comparisons are made per code.
/// </summary>
public sealed class BookChart
{
    private readonly Dictionary<BookAccount, string?> _codes;

    private BookChart(Dictionary<BookAccount, string?> codes) => _codes = codes;

    /// <summary>The account code of <paramref name="account"/>, or null when no setting names one.</summary>
    public string? CodeOf(BookAccount account) => _codes.GetValueOrDefault(account);

    /// <summary>Every code the chart names.</summary>
    public IReadOnlySet<string> Codes => _codes.Values.OfType<string>().ToHashSet(StringComparer.Ordinal);

    /// <param name="settings">The host's configuration (keys such as <c>Fulfil:ReturnsClearingAccountCode</c>).</param>
    public static BookChart From(string receivable, string revenue, string tax, IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        string? Setting(string key) => settings.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase)).Value is { Length: > 0 } v ? v : null;
        var handling = Setting("Refunds:HandlingFeeAccountCode");
        return new BookChart(new Dictionary<BookAccount, string?>
        {
            [BookAccount.Receivable] = receivable,
            [BookAccount.Revenue] = revenue,
            [BookAccount.Tax] = tax,
            [BookAccount.ReturnsClearing] = Setting("Fulfil:ReturnsClearingAccountCode"),
            [BookAccount.GiftCardLiability] = Setting("Fulfil:GiftCardLiabilityAccountCode"),
            [BookAccount.GiftCardBonus] = Setting("Refunds:GiftCardBonusAccountCode"),
            [BookAccount.HandlingFeeIncome] = handling,
            [BookAccount.ShippingFeeIncome] = Setting("Refunds:ShippingFeeAccountCode") ?? handling,
        });
    }

    /// <summary>
    /// Balances per code. An amount on an account no setting names is kept under <c>(no account: Name)</c>, so it
    /// shows as a difference rather than vanishing.
    /// </summary>
    public IReadOnlyDictionary<string, decimal> ByCode(IReadOnlyDictionary<BookAccount, decimal> balances)
    {
        ArgumentNullException.ThrowIfNull(balances);
        var byCode = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (account, amount) in balances)
        {
            var code = CodeOf(account) ?? $"(no account: {account})";
            byCode[code] = byCode.GetValueOrDefault(code) + amount;
        }

        return byCode;
    }

    /// <summary>Σ |expected − actual| over the chart's codes (and any expected code the chart lacks).</summary>
    public decimal Difference(IReadOnlyDictionary<string, decimal> expected, IReadOnlyDictionary<string, decimal> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        return Codes.Union(expected.Keys).Distinct(StringComparer.Ordinal)
            .Sum(code => Math.Abs(expected.GetValueOrDefault(code) - actual.GetValueOrDefault(code)));
    }
}
