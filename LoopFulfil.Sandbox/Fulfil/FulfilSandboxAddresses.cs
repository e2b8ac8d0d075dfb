using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

// Customer addresses (party.address) and the country tables they point at, with Tryton's rules: an address belongs to
// one party, its subdivision to its country, and a sale ships and invoices only to addresses of its own party.
public sealed partial class FulfilSandboxState
{
    /// <summary>Adds a country (<c>country.country</c>, code ISO 3166-1 alpha-2); returns its id.</summary>
    public int AddCountry(string code, string name)
    {
        lock (_gate)
        {
            return Insert("country.country", new() { ["code"] = code, ["name"] = name });
        }
    }

    /// <summary>Adds a subdivision (<c>country.subdivision</c>, code ISO 3166-2 such as <c>US-NY</c>); returns its id.</summary>
    public int AddSubdivision(string countryCode, string code, string name, string type = "state")
    {
        lock (_gate)
        {
            return Insert("country.subdivision", new() { ["code"] = code, ["name"] = name, ["type"] = type, ["country"] = CountryIdLocked(countryCode) });
        }
    }

    public int CountryId(string code)
    {
        lock (_gate)
        {
            return CountryIdLocked(code);
        }
    }

    /// <summary>Adds an address to a party directly (as if typed in Fulfil); returns its id.</summary>
    public int AddAddress(int partyId, string? name, string street, string city, string? zip, string? countryCode, string? streetBis = null)
    {
        lock (_gate)
        {
            Rec("party.party", partyId);
            return Insert("party.address", new()
            {
                ["party"] = partyId, ["name"] = name, ["street"] = street, ["street_bis"] = streetBis, ["city"] = city, ["zip"] = zip,
                ["country"] = countryCode is null ? null : CountryIdLocked(countryCode), ["active"] = true,
            });
        }
    }

    /// <summary>The party's addresses (archived included), oldest first.</summary>
    public IReadOnlyList<FulfilSandboxRecord> AddressesOf(int partyId) => Where("party.address", a => Equals(a.GetValueOrDefault("party"), partyId));

    private int? FirstAddressOf(int partyId) =>
        Table("party.address").Where(kv => Equals(kv.Value.GetValueOrDefault("party"), partyId)).Select(kv => (int?)kv.Key).FirstOrDefault();

    private int CountryIdLocked(string code) =>
        Table("country.country").Where(kv => Equals(kv.Value.GetValueOrDefault("code"), code)).Select(kv => (int?)kv.Key).FirstOrDefault()
        ?? throw new SandboxNotFound($"No country.country with code {code}.");

    private void ValidateAddress(Dictionary<string, object?> values)
    {
        RequireRef(values, "party", "party.party", "party.address");
        int? country = values.GetValueOrDefault("country") is null ? null : RequireRef(values, "country", "country.country", "party.address");
        if (values.GetValueOrDefault("subdivision") is not null)
        {
            var subdivision = RequireRef(values, "subdivision", "country.subdivision", "party.address");
            if (!Equals(Rec("country.subdivision", subdivision).GetValueOrDefault("country"), country))
            {
                throw new SandboxUserError("E_SUBDIVISION_COUNTRY", $"Subdivision {subdivision} does not belong to the address's country.");
            }
        }
    }

    private void ValidateSaleAddresses(Dictionary<string, object?> values, int party)
    {
        foreach (var field in new[] { "shipment_address", "invoice_address" })
        {
            if (values.GetValueOrDefault(field) is null)
            {
                continue;
            }

            var address = RequireRef(values, field, "party.address", "sale.sale");
            if (!Equals(Rec("party.address", address).GetValueOrDefault("party"), party))
            {
                throw new SandboxUserError("E_ADDRESS_PARTY", string.Create(CultureInfo.InvariantCulture, $"sale.sale.{field} {address} is not an address of party {party}."));
            }
        }
    }
}
