using System.Text.Json.Nodes;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Privacy;

/// <summary>One made-up customer whose every value is recognisable: a hit in a scan can only be this person's data.</summary>
internal sealed record PersonalValues(string Email, string FirstName, string LastName, string Street, string Phone, string City)
{
    public static readonly PersonalValues Zeb = new("zeb.quackenbush.7f3a9c@privacy-erase.example", "Zebulon", "Quackenbushwick", "742 Vellichor Terrace", "+1 555 0199 7731", "Quillhaven");

    public static readonly PersonalValues Ottilie = new("ottilie.marchbanks.41d2@privacy-erase.example", "Ottilie", "Marchbankswold", "19 Sonder Crescent", "+1 555 0142 2286", "Brambleford");

    /// <summary>What a scan looks for: each value, and the phone without its '+' (JSON writers may escape it).</summary>
    public IReadOnlyList<string> Scanned => [Email, FirstName, LastName, Street, Phone, Phone[1..], City];

    /// <summary>Sets the return's customer e-mail and address (name, street, city, phone) to this person's.</summary>
    public LoopReturnBuilder On(LoopReturnBuilder builder) => builder
        .Set("customer", Email)
        .Set("address", new JsonObject
        {
            ["name"] = $"{FirstName} {LastName}",
            ["company"] = "",
            ["address1"] = Street,
            ["address2"] = "",
            ["city"] = City,
            ["state"] = "New York",
            ["zip"] = "10024",
            ["country"] = "United States",
            ["country_code"] = "US",
            ["phone"] = Phone,
        });
}
