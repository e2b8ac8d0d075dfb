using System.Collections.Frozen;

namespace LoopFulfil.Core.Loop.Models;

/// <summary>
/// Money on Loop's Commerce Data APIs: an integer <c>amount</c> in minor units of <c>currency_code</c>
/// ("in minor units, such as cents"). Only this edge uses minor units; everything inside is <see cref="decimal"/>.
/// </summary>
public sealed record LoopMoney(long Amount, string CurrencyCode)
{
    /// <summary>
    /// Converts a decimal amount to minor units by the currency's exponent, rounding half away from zero when the
    /// amount carries more precision than the currency has (Fulfil can hold 12.345 USD; Loop cannot).
    /// </summary>
    public static LoopMoney FromDecimal(decimal amount, string currencyCode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(currencyCode);
        var code = currencyCode.Trim().ToUpperInvariant();
        var scaled = decimal.Round(amount * CurrencyExponent.Factor(code), 0, MidpointRounding.AwayFromZero);
        return new LoopMoney(decimal.ToInt64(scaled), code);
    }

    /// <summary>The amount back in major units.</summary>
    public decimal ToDecimal() => Amount / CurrencyExponent.Factor(CurrencyCode);
}

/// <summary>ISO 4217 minor-unit exponents. Unlisted codes have 2, the exponent of nearly every currency.</summary>
public static class CurrencyExponent
{
    private static readonly FrozenDictionary<string, int> NonDefault = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        // No minor unit.
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0,
        ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0,
        ["XPF"] = 0,
        // Thousandths.
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
        // Ten-thousandths (accounting units).
        ["CLF"] = 4, ["UYW"] = 4,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Number of decimal places of <paramref name="currencyCode"/>'s minor unit.</summary>
    public static int For(string currencyCode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(currencyCode);
        return NonDefault.TryGetValue(currencyCode.Trim(), out var exponent) ? exponent : 2;
    }

    /// <summary>10^exponent, the count of minor units in one major unit.</summary>
    public static decimal Factor(string currencyCode) => For(currencyCode) switch
    {
        0 => 1m,
        2 => 100m,
        3 => 1000m,
        4 => 10000m,
        var e => (decimal)Math.Pow(10, e),
    };
}
