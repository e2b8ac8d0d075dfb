using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.Exchanges;

/// <summary>Where an exchange ships: the top-level <c>address</c> of the Loop return, when it is complete enough to ship to.</summary>
public static class ExchangeAddresses
{
    /// <summary>
    /// The return's address as a Fulfil address request, or null with <paramref name="unusable"/> saying what is
    /// missing (field names only, never the values: they are personal data). Needs a street, a city and a two-letter
    /// country code; the postcode is optional (not every country has one). Tryton addresses have no company or phone:
    /// the company joins the recipient name, the phone is left out.
    /// </summary>
    public static FulfilAddressRequest? ShipTo(LoopAddress? address, out string? unusable)
    {
        unusable = address switch
        {
            null => "is absent",
            { Address1: var street } when string.IsNullOrWhiteSpace(street) => "has no street (address1)",
            { City: var city } when string.IsNullOrWhiteSpace(city) => "has no city",
            { CountryCode: var code } when code is null || code.Trim().Length != 2 || !code.Trim().All(char.IsAsciiLetter) => "has no two-letter country_code",
            _ => null,
        };
        if (unusable is not null)
        {
            return null;
        }

        string[] recipient = [.. new[] { address!.Name, address.Company }.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim())];
        return new FulfilAddressRequest(
            recipient.Length == 0 ? null : string.Join(", ", recipient),
            address.Address1!.Trim(),
            Blank(address.Address2),
            address.City!.Trim(),
            Blank(address.Zip),
            address.CountryCode!.Trim().ToUpperInvariant(),
            Blank(address.State));
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
