using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LoopFulfil.Core.Privacy;

/// <summary>
/// Which values of a stored payload are a person's, and how they are taken out: the one place retention and erasure
/// decide it. A payload is reduced by key name (Loop's snake_case names), so ids, SKUs, quantities, amounts, states
/// and times stay exactly as they were, and the reduced payload still reads as the same Loop model.
/// </summary>
/// <remarks>
/// Personal values are set to JSON null (the models' fields are nullable) rather than removed, so the shape stays.
/// A value already null or empty is left alone: reducing a reduced payload changes nothing (idempotent).
/// </remarks>
public static class PersonalFields
{
    /// <summary>What a personal value found inside other text (a note, a malformed body) is replaced with.</summary>
    public const string Mask = "[erased]";

    // Values that are a person's wherever they appear. "customer" is Loop's e-mail field on a return; free text a
    // customer typed (comments, notes) can hold anything, so it goes too.
    private static readonly FrozenSet<string> PersonalKeys = FrozenSet.ToFrozenSet(
        [
            "customer", "email", "customer_email", "first_name", "middle_name", "last_name", "full_name", "phone",
            "phone_number", "address1", "address2", "street", "street1", "street2", "city", "zip", "postal_code",
            "postcode", "return_comment", "customer_note", "comment", "note",
        ],
        StringComparer.OrdinalIgnoreCase);

    // Objects describing a person or where they live: every value inside is theirs, except the kept ones below.
    // "name" and "state" are personal only here (elsewhere they are a product's name and a return's state).
    private static readonly FrozenSet<string> PersonalObjects = FrozenSet.ToFrozenSet(
        ["customer", "customer_detail", "address", "shipping_address", "billing_address", "origin", "customer_address"],
        StringComparer.OrdinalIgnoreCase);

    // Kept inside personal objects: references and the country (tax and customs reporting), never a person. A label
    // request's "destination" is the merchant's warehouse, so only its "origin" is personal.
    private static readonly FrozenSet<string> KeptInPersonalObjects = FrozenSet.ToFrozenSet(
        ["id", "country", "country_code", "currency"],
        StringComparer.OrdinalIgnoreCase);

    // References: never a person's value, never masked.
    private static readonly FrozenSet<string> References = FrozenSet.ToFrozenSet(["sku", "barcode"], StringComparer.OrdinalIgnoreCase);

    // Where the values that identify one person are found (erasure looks for them elsewhere too).
    private static readonly FrozenSet<string> IdentifyingKeys = FrozenSet.ToFrozenSet(
        ["customer", "email", "customer_email", "name", "full_name", "first_name", "last_name", "phone", "phone_number", "address1", "street", "street1"],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// <paramref name="body"/> with every personal value nulled and every occurrence of <paramref name="erase"/> in
    /// other text masked. Null when the body is not a JSON object or array (the caller decides what a non-JSON body
    /// becomes). <paramref name="changed"/> counts the values taken out.
    /// </summary>
    public static byte[]? Reduce(ReadOnlySpan<byte> body, IReadOnlyCollection<string> erase, out int changed)
    {
        ArgumentNullException.ThrowIfNull(erase);
        changed = 0;
        if (Parse(body) is not { } root)
        {
            return null;
        }

        changed = Walk(root, personal: false, erase);
        return changed == 0 ? body.ToArray() : Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>
    /// The values in a JSON <paramref name="body"/> that identify its person (e-mail, name, phone, street), for erasure
    /// to find the same person's data where the e-mail is absent. Empty for a body that is not JSON.
    /// </summary>
    public static IReadOnlyCollection<string> Identifiers(ReadOnlySpan<byte> body)
    {
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (Parse(body) is { } root)
        {
            CollectIdentifiers(root, personal: false, found);
        }

        return found;
    }

    /// <summary>True when the body (its decoded text values when it is JSON, else its text) contains any of <paramref name="terms"/>.</summary>
    public static bool Contains(ReadOnlySpan<byte> body, IReadOnlyCollection<string> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (body.IsEmpty || terms.Count == 0)
        {
            return false;
        }

        // Raw text first (cheap, and covers non-JSON); JSON escapes (\u0040 for '@') are caught by the decoded walk.
        if (ContainsAny(Encoding.UTF8.GetString(body), terms))
        {
            return true;
        }

        return Parse(body) is { } root && Texts(root).Any(t => ContainsAny(t, terms));
    }

    /// <summary>
    /// <paramref name="text"/> with every whole-word occurrence of <paramref name="erase"/> (ignoring case) replaced by
    /// <see cref="Mask"/>: "Ann" goes from "call Ann" but not from "Annapolis Tee".
    /// </summary>
    public static string MaskIn(string text, IReadOnlyCollection<string> erase, out int changed)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(erase);
        changed = 0;

        // Longest first, so a full name is masked whole before its first name is looked for.
        foreach (var term in erase.Where(t => t.Length > 0).OrderByDescending(t => t.Length))
        {
            for (var at = text.IndexOf(term, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(term, at, StringComparison.OrdinalIgnoreCase))
            {
                var end = at + term.Length;
                if ((at > 0 && char.IsLetterOrDigit(text[at - 1])) || (end < text.Length && char.IsLetterOrDigit(text[end])))
                {
                    at++;
                    continue;
                }

                text = string.Concat(text.AsSpan(0, at), Mask, text.AsSpan(end));
                at += Mask.Length;
                changed++;
            }
        }

        return text;
    }

    /// <summary>True when <paramref name="text"/> contains any of <paramref name="terms"/>, ignoring case.</summary>
    public static bool ContainsAny(string? text, IReadOnlyCollection<string> terms) =>
        text is { Length: > 0 } && terms.Any(t => t.Length > 0 && text.Contains(t, StringComparison.OrdinalIgnoreCase));

    private static JsonNode? Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body) is { } node && node.GetValueKind() is JsonValueKind.Object or JsonValueKind.Array ? node : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int Walk(JsonNode node, bool personal, IReadOnlyCollection<string> erase)
    {
        // Erasure masks a person's values inside other text, never inside a reference (ids, SKUs, barcodes).
        var changed = 0;
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
            {
                var child = obj[key];
                var personalValue = PersonalKeys.Contains(key) || (personal && !Kept(key));
                if (child is JsonValue value)
                {
                    (var replacement, var replaced) = ReduceValue(value, personalValue, Kept(key) ? [] : erase);
                    if (replaced)
                    {
                        obj[key] = replacement;
                        changed++;
                    }
                }
                else if (child is not null)
                {
                    changed += Walk(child, personal || personalValue || PersonalObjects.Contains(key), Kept(key) ? [] : erase);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonValue value)
                {
                    (var replacement, var replaced) = ReduceValue(value, personal, erase);
                    if (replaced)
                    {
                        array[i] = replacement;
                        changed++;
                    }
                }
                else if (array[i] is { } child)
                {
                    changed += Walk(child, personal, erase);
                }
            }
        }

        return changed;
    }

    private static (JsonNode? Replacement, bool Replaced) ReduceValue(JsonValue value, bool personal, IReadOnlyCollection<string> erase)
    {
        var kind = value.GetValueKind();
        if (personal)
        {
            // Booleans say nothing about a person; an empty string has nothing left to take.
            var empty = kind == JsonValueKind.String && value.GetValue<string>().Length == 0;
            return kind is JsonValueKind.String or JsonValueKind.Number && !empty ? (null, true) : (null, false);
        }

        if (kind == JsonValueKind.String && erase.Count > 0)
        {
            var text = value.GetValue<string>();
            var masked = MaskIn(text, erase, out var count);
            return count > 0 ? (JsonValue.Create(masked), true) : (null, false);
        }

        return (null, false);
    }

    private static IEnumerable<string> Texts(JsonNode node)
    {
        switch (node)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                yield return value.GetValue<string>();
                break;
            case JsonObject obj:
                foreach (var child in obj.Select(p => p.Value))
                {
                    foreach (var text in child is null ? [] : Texts(child))
                    {
                        yield return text;
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    foreach (var text in child is null ? [] : Texts(child))
                    {
                        yield return text;
                    }
                }

                break;
        }
    }

    private static void CollectIdentifiers(JsonNode node, bool personal, HashSet<string> found)
    {
        if (node is JsonObject obj)
        {
            foreach ((var key, var child) in obj)
            {
                if (child is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                {
                    var text = value.GetValue<string>().Trim();

                    // "name" identifies a person only inside a personal object (elsewhere it names a product).
                    var identifying = IdentifyingKeys.Contains(key) && (personal || !key.Equals("name", StringComparison.OrdinalIgnoreCase));
                    if (identifying && text.Length >= 3)
                    {
                        found.Add(text);
                    }
                }
                else if (child is not null)
                {
                    CollectIdentifiers(child, personal || PersonalObjects.Contains(key), found);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                if (child is not null)
                {
                    CollectIdentifiers(child, personal, found);
                }
            }
        }
    }

    private static bool Kept(string key) =>
        KeptInPersonalObjects.Contains(key) || References.Contains(key) || key.EndsWith("_id", StringComparison.OrdinalIgnoreCase) || key.EndsWith("_ids", StringComparison.OrdinalIgnoreCase);
}
