using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// party.address find-or-create, with country and subdivision lookups kept behind the client (they are many2one ids
// in Tryton, codes on the Loop side).
public sealed partial class FulfilClient
{
    private const string PartyAddress = "party.address";
    private const string Country = "country.country";
    private const string Subdivision = "country.subdivision";

    // Country ids never change in practice; one lookup per code per client is enough.
    private readonly ConcurrentDictionary<string, int> _countryIds = new(StringComparer.Ordinal);

    public async Task<FulfilPartyAddress> EnsurePartyAddressAsync(int partyId, FulfilAddressRequest address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentException.ThrowIfNullOrWhiteSpace(address.Street);
        ArgumentException.ThrowIfNullOrWhiteSpace(address.City);
        ArgumentException.ThrowIfNullOrWhiteSpace(address.CountryCode);

        var country = await CountryIdAsync(address.CountryCode, cancellationToken).ConfigureAwait(false);
        var nameField = string.IsNullOrWhiteSpace(_options.AddressNameField) ? "name" : _options.AddressNameField;
        var wanted = AddressKey.Of(address.Name, address.Street, address.StreetBis, address.City, address.Zip, country);
        var existing = await _http.SearchReadAllAsync<JsonElement>(
            PartyAddress,
            [new object[] { "party", "=", partyId }],
            ["id", nameField, "street", "street_bis", "city", "zip", "country"],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var row in existing)
        {
            if (AddressKey.Of(row.Str(nameField), row.Str("street"), row.Str("street_bis"), row.Str("city"), row.Str("zip"), row.IntOrNull("country")) == wanted)
            {
                return new FulfilPartyAddress(row.Id(), Created: false);
            }
        }

        var record = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["party"] = partyId,
            ["street"] = address.Street.Trim(),
            ["city"] = address.City.Trim(),
            ["country"] = country,
        };
        SetIfPresent(record, nameField, address.Name);
        SetIfPresent(record, "street_bis", address.StreetBis);
        SetIfPresent(record, "zip", address.Zip);
        if (_options.AddressSubdivisionLookup && !string.IsNullOrWhiteSpace(address.State)
            && await SubdivisionIdAsync(country, address.CountryCode, address.State, cancellationToken).ConfigureAwait(false) is { } subdivision)
        {
            record["subdivision"] = subdivision;
        }

        var ids = await _http.CreateAsync(PartyAddress, [record], cancellationToken).ConfigureAwait(false);
        return new FulfilPartyAddress(ids[0], Created: true);
    }

    private async Task<int> CountryIdAsync(string code, CancellationToken cancellationToken)
    {
        var key = code.Trim().ToUpperInvariant();
        if (_countryIds.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var rows = await _http.SearchReadAsync<JsonElement>(Country, [new object[] { "code", "=", key }], 0, 1, ["id", "code"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            throw new FulfilNotFoundException($"Fulfil has no country.country with code {key}.");
        }

        return _countryIds[key] = rows[0].Id();
    }

    /// <summary>By ISO 3166-2 code (<c>US-NY</c>) when the state looks like a code, else by name; null when neither matches.</summary>
    private async Task<int?> SubdivisionIdAsync(int country, string countryCode, string state, CancellationToken cancellationToken)
    {
        var trimmed = state.Trim();
        if (trimmed.Length <= 3 && trimmed.All(char.IsAsciiLetterOrDigit))
        {
            var code = string.Create(CultureInfo.InvariantCulture, $"{countryCode.Trim().ToUpperInvariant()}-{trimmed.ToUpperInvariant()}");
            var byCode = await _http.SearchReadAsync<JsonElement>(Subdivision, [new object[] { "country", "=", country }, new object[] { "code", "=", code }], 0, 1, ["id"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (byCode.Count > 0)
            {
                return byCode[0].Id();
            }
        }

        // ilike without wildcards: a case-insensitive equality.
        var byName = await _http.SearchReadAsync<JsonElement>(Subdivision, [new object[] { "country", "=", country }, new object[] { "name", "ilike", trimmed }], 0, 1, ["id"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return byName.Count > 0 ? byName[0].Id() : null;
    }

    private static void SetIfPresent(Dictionary<string, object?> record, string field, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            record[field] = value.Trim();
        }
    }

    /// <summary>The fields that make two addresses the same place for the same recipient, normalised.</summary>
    private readonly record struct AddressKey(string Name, string Street, string StreetBis, string City, string Zip, int? Country)
    {
        public static AddressKey Of(string? name, string? street, string? streetBis, string? city, string? zip, int? country) =>
            new(Text(name), Text(street), Text(streetBis), Text(city), Postcode(zip), country);

        // "1 Example St." and "1  example st" are one address; punctuation and spacing differ between checkouts.
        private static string Text(string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return string.Empty;
            }

            var builder = new StringBuilder(value.Length);
            var space = false;
            foreach (var c in value.Trim().Normalize(NormalizationForm.FormC))
            {
                if (char.IsWhiteSpace(c) || c is ',' or '.')
                {
                    space = builder.Length > 0;
                    continue;
                }

                if (space)
                {
                    builder.Append(' ');
                    space = false;
                }

                builder.Append(char.ToUpperInvariant(c));
            }

            return builder.ToString();
        }

        private static string Postcode(string? value) =>
            string.IsNullOrWhiteSpace(value) ? string.Empty : new string([.. value.Where(c => !char.IsWhiteSpace(c) && c != '-').Select(char.ToUpperInvariant)]);
    }
}
