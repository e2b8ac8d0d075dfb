namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// A postal address to keep on a customer party (<c>party.address</c>). Personal data: never log it.
/// </summary>
/// <param name="Name">Recipient (written to <see cref="FulfilOptions.AddressNameField"/>).</param>
/// <param name="CountryCode">ISO 3166-1 alpha-2; looked up as <c>country.country.code</c>.</param>
/// <param name="State">State or province as the customer gave it (code or name); resolves the subdivision when found.</param>
public sealed record FulfilAddressRequest(string? Name, string Street, string? StreetBis, string City, string? Zip, string CountryCode, string? State);

/// <param name="Id">The <c>party.address</c> id.</param>
/// <param name="Created">True when this call created it; false when an equal address of the party was reused.</param>
public sealed record FulfilPartyAddress(int Id, bool Created);

public partial interface IFulfilClient
{
    /// <summary>
    /// An active address of <paramref name="partyId"/> equal to <paramref name="address"/> after normalisation (case,
    /// whitespace, punctuation; country by id), or a new one. Repeating the call never adds a second address.
    /// </summary>
    /// <exception cref="FulfilNotFoundException">Fulfil has no country with the address's code.</exception>
    Task<FulfilPartyAddress> EnsurePartyAddressAsync(int partyId, FulfilAddressRequest address, CancellationToken cancellationToken = default);
}
