using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Privacy;

namespace LoopFulfil.Tests.Privacy;

public sealed class PersonalFieldsTests
{
    private const string Payload = """
        {"id":"77","state":"closed","customer":"ann@example.test","total":"25.00",
         "address":{"name":"Ann Example","address1":"1 Long Road","city":"Town","state":"New York","zip":"10024","country_code":"US","phone":"+1 555 0100"},
         "line_items":[{"sku":"TEE-BLK-M","title":"Tee","name":"Black tee","price":"25.00","return_comment":"ring Ann"}],
         "customer_detail":{"email":"ann@example.test","first_name":"Ann","last_name":"Example","id":"c-9"}}
        """;

    [Fact]
    public void Reduce_nulls_the_persons_values_and_keeps_ids_skus_amounts_states_product_names_and_the_country()
    {
        var reduced = JsonNode.Parse(PersonalFields.Reduce(Encoding.UTF8.GetBytes(Payload), [], out var changed)!)!;

        Assert.Equal(11, changed); // customer; address name, street, city, state, zip, phone; the comment; e-mail and both names
        Assert.Null(reduced["customer"]);
        Assert.Null(reduced["address"]!["name"]);
        Assert.Null(reduced["address"]!["state"]);
        Assert.Null(reduced["line_items"]![0]!["return_comment"]);
        Assert.Null(reduced["customer_detail"]!["email"]);
        Assert.Equal("closed", (string?)reduced["state"]);
        Assert.Equal("US", (string?)reduced["address"]!["country_code"]);
        Assert.Equal("Black tee", (string?)reduced["line_items"]![0]!["name"]);
        Assert.Equal("25.00", (string?)reduced["line_items"]![0]!["price"]);
        Assert.Equal("c-9", (string?)reduced["customer_detail"]!["id"]);
    }

    [Fact]
    public void Reducing_a_reduced_payload_changes_nothing_and_identifiers_are_the_persons_not_the_products()
    {
        var once = PersonalFields.Reduce(Encoding.UTF8.GetBytes(Payload), [], out _)!;
        var twice = PersonalFields.Reduce(once, [], out var changed)!;

        Assert.Equal(0, changed);
        Assert.Equal(once, twice);
        Assert.Equal(
            ["+1 555 0100", "1 Long Road", "Ann", "Ann Example", "Example", "ann@example.test"],
            PersonalFields.Identifiers(Encoding.UTF8.GetBytes(Payload)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Erasure_masks_a_name_as_a_whole_word_in_text_but_never_inside_an_id_a_sku_or_another_word()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"ANN-1","line_items":[{"sku":"TEE-ANN","title":"Annapolis Tee","staff_remark":"ask Ann first"}]}""");

        var reduced = JsonNode.Parse(PersonalFields.Reduce(body, ["Ann"], out var changed)!)!;

        Assert.Equal(1, changed);
        Assert.Equal("ask [erased] first", (string?)reduced["line_items"]![0]!["staff_remark"]);
        Assert.Equal("ANN-1", (string?)reduced["id"]);
        Assert.Equal("TEE-ANN", (string?)reduced["line_items"]![0]!["sku"]);
        Assert.Equal("Annapolis Tee", (string?)reduced["line_items"]![0]!["title"]);
    }
}
