using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace LoopFulfil.Tests.Privacy;

/// <summary>
/// Everything one test run stored, read straight from Azurite with the SDKs (not through LoopFulfil's stores): every
/// entity of every table with the run's prefix, every blob of every container with its prefix. Each record becomes
/// text: keys, every property (binary decoded as UTF-8), and for JSON also its decoded string values (escapes undone).
/// </summary>
internal static class StorageScan
{
    public static async Task<IReadOnlyList<(string Where, string Text)>> AllAsync(string connectionString, string tablePrefix, string containerPrefix)
    {
        var records = new List<(string Where, string Text)>();
        var tables = new TableServiceClient(connectionString);
        await foreach (var table in tables.QueryAsync())
        {
            if (!table.Name.StartsWith(tablePrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            await foreach (var entity in tables.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var text = new StringBuilder().AppendLine(entity.PartitionKey).AppendLine(entity.RowKey);
                foreach ((var key, var value) in entity)
                {
                    text.Append(key).Append('=').AppendLine(value switch
                    {
                        byte[] bytes => Decode(bytes),
                        BinaryData data => Decode(data.ToArray()),
                        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    });
                }

                records.Add(($"table {table.Name} {entity.PartitionKey} / {entity.RowKey}", text.ToString()));
            }
        }

        var blobs = new BlobServiceClient(connectionString);
        await foreach (var container in blobs.GetBlobContainersAsync(prefix: containerPrefix))
        {
            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                var content = (await client.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
                records.Add(($"blob {container.Name}/{blob.Name}", Decode(content)));
            }
        }

        return records;
    }

    /// <summary>Where any of <paramref name="values"/> appears (ignoring case).</summary>
    public static IReadOnlyList<string> Hits(IEnumerable<(string Where, string Text)> records, IEnumerable<string> values) =>
        [.. (from r in records from v in values where r.Text.Contains(v, StringComparison.OrdinalIgnoreCase) select $"{r.Where} holds '{v}'").Distinct()];

    private static string Decode(byte[] bytes)
    {
        var raw = Encoding.UTF8.GetString(bytes);
        try
        {
            return JsonNode.Parse(bytes) is { } node ? raw + "\n" + string.Join("\n", Strings(node)) : raw;
        }
        catch (JsonException)
        {
            return raw;
        }
    }

    private static IEnumerable<string> Strings(JsonNode node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Value is null ? [] : Strings(p.Value)),
        JsonArray array => array.SelectMany(n => n is null ? [] : Strings(n)),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => [value.GetValue<string>()],
        _ => [],
    };
}
