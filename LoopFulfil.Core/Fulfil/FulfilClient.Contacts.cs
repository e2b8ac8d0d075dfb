using System.Text.Json;

namespace LoopFulfil.Core.Fulfil;

// Contact details and postal addresses for the commerce push (Loop's order lookup asks the customer for the order's
// email or postal code). Personal data: read to send to Loop's API only, never logged.
public sealed partial class FulfilClient
{
    private static readonly string[] PhoneTypes = ["phone", "mobile"];
    private static readonly string[] ContactTypes = ["email", .. PhoneTypes];

    /// <summary>First active email and phone (or mobile) per party, in Fulfil's order of the contact mechanisms.</summary>
    private async Task<Dictionary<int, (string? Email, string? Phone)>> ContactsOfAsync(int[] partyIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, (string? Email, string? Phone)>();
        foreach (var chunk in partyIds.Distinct().Chunk(Math.Max(1, _options.PageSize)))
        {
            var rows = await _http.SearchReadAllAsync<JsonElement>(
                "party.contact_mechanism",
                [new object[] { "party", "in", chunk }, new object[] { "type", "in", ContactTypes }],
                ["id", "party", "type", "value"],
                cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var row in rows.OrderBy(r => r.Id()))
            {
                if (row.IntOrNull("party") is not { } party || string.IsNullOrWhiteSpace(row.Str("value")))
                {
                    continue;
                }

                var (email, phone) = result.GetValueOrDefault(party);
                var value = row.Str("value")!.Trim();
                if (row.Str("type") == "email")
                {
                    email ??= value;
                }
                else if (PhoneTypes.Contains(row.Str("type")))
                {
                    phone ??= value;
                }

                result[party] = (email, phone);
            }
        }

        return result;
    }

    private async Task<Dictionary<int, FulfilPostalAddress>> PostalAddressesAsync(int[] addressIds, CancellationToken cancellationToken)
    {
        var nameField = string.IsNullOrWhiteSpace(_options.AddressNameField) ? "name" : _options.AddressNameField;
        var rows = await ReadByIdsAsync("party.address", addressIds, ["id", nameField, "street", "street_bis", "city", "zip", "country.code", "subdivision.code"], archivedToo: true, cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id(), r => new FulfilPostalAddress(
            r.Id(), r.Str(nameField), r.Str("street"), r.Str("street_bis"), r.Str("city"), r.Str("zip"), r.Str("country.code"), r.Str("subdivision.code")));
    }
}
