using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// <see cref="ITableStore"/> over the Table service REST API (JSON, OData minimal metadata) on Azure.Core's pipeline.
/// This file is the only one that knows the Table protocol; swapping in Azure.Data.Tables replaces it alone.
/// Keys are escaped with <see cref="TableKey"/> on the way in and unescaped on the way out.
/// </summary>
public sealed partial class AzureTableStore : ITableStore
{
    private const string JsonAccept = "application/json;odata=minimalmetadata";
    private const int MaxBatchOperations = 100;
    private const int MaxBatchBytes = 4 * 1024 * 1024;

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly string _tablePrefix;

    /// <param name="account">Endpoint and credentials.</param>
    /// <param name="tablePrefix">Prepended to every table name (isolates deployments or test runs sharing an account).</param>
    /// <param name="clientOptions">Retry and timeout settings; defaults suit Functions.</param>
    /// <param name="timeProvider">Clock for request signing.</param>
    public AzureTableStore(StorageAccount account, string? tablePrefix = null, StorageClientOptions? clientOptions = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _endpoint = account.RequireEndpoint(StorageService.Table);
        _pipeline = account.CreatePipeline(StorageService.Table, clientOptions, timeProvider ?? TimeProvider.System);
        _tablePrefix = tablePrefix ?? "";
    }

    /// <summary>Size limits are checked locally before sending; tests switch this off to exercise the service's own errors.</summary>
    internal bool CheckSizesBeforeSending { get; set; } = true;

    public async Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken)
    {
        var name = TableName(table);
        using var message = CreateMessage(RequestMethod.Post, "Tables");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(JsonSerializerFree.TableNameBody(name));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status is 201 or 204)
        {
            return;
        }

        var error = StorageError.Read(response);
        if (response.Status == 409 && error.Code != "TableBeingDeleted")
        {
            return; // TableAlreadyExists
        }

        throw Failure(response, error, $"create table '{name}'");
    }

    public async Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var name = TableName(table);
        using var message = CreateMessage(RequestMethod.Get, EntityPath(name, partitionKey, rowKey));
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 200)
        {
            using var doc = JsonDocument.Parse(response.Content.ToMemory());
            var entity = TableEntityJson.Read(doc.RootElement);
            if (response.Headers.ETag is { } etag)
            {
                entity.ETag = etag.ToString();
            }

            return entity;
        }

        var error = StorageError.Read(response);
        if (response.Status == 404 && error.Code != "TableNotFound")
        {
            return null;
        }

        throw Failure(response, error, $"get ({partitionKey}, {rowKey}) from '{name}'");
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new entity's ETag.</remarks>
    public async Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var name = TableName(table);
        var body = Serialize(name, entity);
        using var message = CreateMessage(RequestMethod.Post, name);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(body);
        var response = await SendAsync(message, cancellationToken);
        if (response.Status is 201 or 204)
        {
            entity.ETag = response.Headers.ETag?.ToString();
            return InsertOutcome.Inserted;
        }

        var error = StorageError.Read(response);
        if (response.Status == 409 && error.Code != "TableBeingDeleted")
        {
            return InsertOutcome.AlreadyExists;
        }

        throw Failure(response, error, $"insert into '{name}'", entity, name);
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new ETag.</remarks>
    public async Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        // Without If-Match the service inserts or overwrites: the only outcomes are success or an exception.
        await WriteAsync(table, entity, mode, ifMatch: null, cancellationToken);
    }

    /// <remarks>On success, <see cref="TableEntity.ETag"/> is set to the new ETag.</remarks>
    public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (string.IsNullOrEmpty(entity.ETag))
        {
            throw new ArgumentException("UpdateAsync needs the ETag read with the entity (or \"*\" to overwrite whatever is there).", nameof(entity));
        }

        return WriteAsync(table, entity, mode, entity.ETag, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var name = TableName(table);
        using var message = CreateMessage(RequestMethod.Delete, EntityPath(name, partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", "*");
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 204)
        {
            return true;
        }

        var error = StorageError.Read(response);
        if (response.Status == 404 && error.Code != "TableNotFound")
        {
            return false;
        }

        throw Failure(response, error, $"delete ({partitionKey}, {rowKey}) from '{name}'");
    }

    /// <summary>Pages of up to 1,000 entities, fetched lazily: the next page is requested only when the caller reaches it.</summary>
    /// <param name="filter">An OData filter, best built with <see cref="TableFilter"/> (it escapes keys); null for all.</param>
    public async IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var name = TableName(table);
        string? nextPartition = null;
        string? nextRow = null;
        do
        {
            using var message = CreateMessage(RequestMethod.Get, name + "()");
            if (!string.IsNullOrWhiteSpace(filter))
            {
                message.Request.Uri.AppendQuery("$filter", filter, escapeValue: true);
            }

            if (nextPartition is not null)
            {
                message.Request.Uri.AppendQuery("NextPartitionKey", nextPartition, escapeValue: true);
            }

            if (nextRow is not null)
            {
                message.Request.Uri.AppendQuery("NextRowKey", nextRow, escapeValue: true);
            }

            var response = await SendAsync(message, cancellationToken);
            if (response.Status != 200)
            {
                throw Failure(response, StorageError.Read(response), $"query '{name}'");
            }

            List<TableEntity> page;
            using (var doc = JsonDocument.Parse(response.Content.ToMemory()))
            {
                var values = doc.RootElement.GetProperty("value");
                page = new List<TableEntity>(values.GetArrayLength());
                foreach (var item in values.EnumerateArray())
                {
                    page.Add(TableEntityJson.Read(item));
                }
            }

            nextPartition = response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var np) ? np : null;
            nextRow = response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nr) ? nr : null;
            foreach (var entity in page)
            {
                yield return entity;
            }
        }
        while (nextPartition is not null);
    }

    /// <summary>
    /// One entity group transaction: all operations succeed or none does. Insert fails the batch on an existing
    /// entity (409); Delete uses the entity's ETag when set (else "*"). Throws <see cref="TableBatchFailedException"/>.
    /// On success, written entities get their new ETags.
    /// </summary>
    public async Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            return;
        }

        var name = TableName(table);
        if (operations.Count > MaxBatchOperations)
        {
            throw new ArgumentException($"A table batch holds at most {MaxBatchOperations} operations; got {operations.Count}.", nameof(operations));
        }

        var partition = operations[0].Entity.PartitionKey;
        var rows = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in operations)
        {
            if (!string.Equals(op.Entity.PartitionKey, partition, StringComparison.Ordinal))
            {
                throw new ArgumentException($"A table batch must stay in one partition; got '{partition}' and '{op.Entity.PartitionKey}'.", nameof(operations));
            }

            if (!rows.Add(op.Entity.RowKey))
            {
                throw new ArgumentException($"A table batch may touch each entity once; RowKey '{op.Entity.RowKey}' appears twice.", nameof(operations));
            }
        }

        var batchBoundary = "batch_" + Guid.NewGuid().ToString("D");
        var changesetBoundary = "changeset_" + Guid.NewGuid().ToString("D");
        var body = BuildBatchBody(name, operations, batchBoundary, changesetBoundary);
        if (body.Length > MaxBatchBytes)
        {
            throw new TableEntityTooLargeException(name, partition, operations[0].Entity.RowKey,
                $"the batch of {operations.Count} operations is {body.Length} bytes; the limit is 4 MiB", null, "RequestBodyTooLarge");
        }

        using var message = CreateMessage(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", "multipart/mixed; boundary=" + batchBoundary);
        message.Request.Content = RequestContent.Create(body);
        var response = await SendAsync(message, cancellationToken);
        if (response.Status != 202)
        {
            throw Failure(response, StorageError.Read(response), $"submit a batch of {operations.Count} to '{name}'");
        }

        var parts = BatchResponse.Parse(response.Content.ToString());
        var failed = parts.FirstOrDefault(p => p.Status >= 400);
        if (failed is not null)
        {
            var error = StorageError.Parse(failed.Body);
            var index = error.Message is { } m && BatchIndexRegex().Match(m) is { Success: true } match
                ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
                : (int?)null;
            var blamed = index is { } i && i < operations.Count ? $" (operation {i}: {operations[i].Action} RowKey '{operations[i].Entity.RowKey}')" : "";
            var text = $"Batch of {operations.Count} in '{name}' partition '{partition}' was rejected{blamed}: {failed.Status} {error.Code} {error.Message}";
            if (failed.Status is >= 500 or 408)
            {
                throw new TransientStorageException(text, failed.Status, error.Code);
            }

            throw new TableBatchFailedException(text, failed.Status, error.Code, index);
        }

        for (var i = 0; i < operations.Count && i < parts.Count; i++)
        {
            if (parts[i].ETag is { } etag)
            {
                operations[i].Entity.ETag = etag;
            }
        }
    }

    private async Task<UpdateOutcome> WriteAsync(string table, TableEntity entity, UpsertMode mode, string? ifMatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var name = TableName(table);
        var body = Serialize(name, entity);
        using var message = CreateMessage(mode == UpsertMode.Merge ? MergeMethod : RequestMethod.Put, EntityPath(name, entity.PartitionKey, entity.RowKey));
        message.Request.Headers.SetValue("Content-Type", "application/json");
        if (ifMatch is not null)
        {
            message.Request.Headers.SetValue("If-Match", ifMatch);
        }

        message.Request.Content = RequestContent.Create(body);
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 204)
        {
            entity.ETag = response.Headers.ETag?.ToString();
            return UpdateOutcome.Updated;
        }

        var error = StorageError.Read(response);
        if (ifMatch is not null && response.Status == 412)
        {
            return UpdateOutcome.PreconditionFailed;
        }

        if (ifMatch is not null && response.Status == 404 && error.Code != "TableNotFound")
        {
            return UpdateOutcome.NotFound;
        }

        throw Failure(response, error, $"{(ifMatch is null ? "upsert" : "update")} ({entity.PartitionKey}, {entity.RowKey}) in '{name}'", entity, name);
    }

    private static readonly RequestMethod MergeMethod = new("MERGE");

    private byte[] Serialize(string table, TableEntity entity)
    {
        if (CheckSizesBeforeSending)
        {
            TableEntityJson.CheckLimits(table, entity);
        }

        return TableEntityJson.Write(entity);
    }

    private byte[] BuildBatchBody(string table, IReadOnlyList<TableBatchOperation> operations, string batchBoundary, string changesetBoundary)
    {
        const string crlf = "\r\n";
        var sb = new StringBuilder();
        sb.Append("--").Append(batchBoundary).Append(crlf)
            .Append("Content-Type: multipart/mixed; boundary=").Append(changesetBoundary).Append(crlf).Append(crlf);
        foreach (var op in operations)
        {
            var entity = op.Entity;
            sb.Append("--").Append(changesetBoundary).Append(crlf)
                .Append("Content-Type: application/http").Append(crlf)
                .Append("Content-Transfer-Encoding: binary").Append(crlf).Append(crlf);
            var (verb, url, ifMatch) = op.Action switch
            {
                TableBatchAction.Insert => ("POST", new Uri(_endpoint, table).AbsoluteUri, null),
                TableBatchAction.UpsertMerge => ("MERGE", new Uri(_endpoint, EntityPath(table, entity.PartitionKey, entity.RowKey)).AbsoluteUri, null),
                TableBatchAction.UpsertReplace => ("PUT", new Uri(_endpoint, EntityPath(table, entity.PartitionKey, entity.RowKey)).AbsoluteUri, null),
                TableBatchAction.Delete => ("DELETE", new Uri(_endpoint, EntityPath(table, entity.PartitionKey, entity.RowKey)).AbsoluteUri, entity.ETag ?? "*"),
                _ => throw new ArgumentOutOfRangeException(nameof(operations), op.Action, "Unknown batch action."),
            };
            sb.Append(verb).Append(' ').Append(url).Append(" HTTP/1.1").Append(crlf)
                .Append("Accept: ").Append(JsonAccept).Append(crlf)
                .Append("DataServiceVersion: 3.0").Append(crlf);
            if (ifMatch is not null)
            {
                sb.Append("If-Match: ").Append(ifMatch).Append(crlf);
            }

            if (op.Action == TableBatchAction.Delete)
            {
                sb.Append(crlf);
            }
            else
            {
                sb.Append("Content-Type: application/json").Append(crlf);
                if (op.Action == TableBatchAction.Insert)
                {
                    sb.Append("Prefer: return-no-content").Append(crlf);
                }

                sb.Append(crlf).Append(Encoding.UTF8.GetString(Serialize(table, entity))).Append(crlf);
            }
        }

        sb.Append("--").Append(changesetBoundary).Append("--").Append(crlf)
            .Append("--").Append(batchBoundary).Append("--").Append(crlf);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private HttpMessage CreateMessage(RequestMethod method, string escapedRelativePath)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_endpoint);
        request.Uri.AppendPath(escapedRelativePath, escape: false);
        request.Headers.SetValue("Accept", JsonAccept);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken);
            return message.Response;
        }
        catch (Exception ex) when (StorageError.IsTransport(ex, cancellationToken))
        {
            throw new TransientStorageException($"Table storage at {_endpoint.Host}:{_endpoint.Port} did not answer after retries: {ex.Message}", null, null, ex);
        }
    }

    private static Exception Failure(Response response, StorageError error, string what, TableEntity? entity = null, string? table = null)
    {
        if (entity is not null && table is not null
            && (error.Code is "EntityTooLarge" or "PropertyValueTooLarge" or "RequestBodyTooLarge" || response.Status == 413))
        {
            return new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"the service said {response.Status} {error.Code}: {error.Message}", response.Status, error.Code);
        }

        return StorageError.ToException(response, error, "Table storage", what);
    }

    private string TableName(string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        var name = _tablePrefix + table;
        if (!TableNameRegex().IsMatch(name) || string.Equals(name, "tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{name}' is not a valid table name (a letter, then 2–62 letters or digits).", nameof(table));
        }

        return name;
    }

    private static string EntityPath(string table, string partitionKey, string rowKey) =>
        $"{table}(PartitionKey='{KeyLiteral(partitionKey)}',RowKey='{KeyLiteral(rowKey)}')";

    private static string KeyLiteral(string rawKey)
    {
        ArgumentNullException.ThrowIfNull(rawKey);
        return Uri.EscapeDataString(TableKey.Escape(rawKey).Replace("'", "''", StringComparison.Ordinal));
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableNameRegex();

    [GeneratedRegex(@"^(\d+):")]
    private static partial Regex BatchIndexRegex();

    private static class JsonSerializerFree
    {
        public static byte[] TableNameBody(string name)
        {
            var buffer = new ArrayBufferWriter<byte>(64);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("TableName", name);
                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary>One sub-response of a $batch answer.</summary>
    private sealed record BatchPart(int Status, string? ETag, string Body);

    private static partial class BatchResponse
    {
        public static List<BatchPart> Parse(string content)
        {
            var parts = new List<BatchPart>();
            var changeset = ChangesetBoundaryRegex().Match(content);
            IEnumerable<string> chunks = changeset.Success
                ? content.Split("--" + changeset.Groups[1].Value, StringSplitOptions.None)
                : [content];
            foreach (var chunk in chunks)
            {
                var status = StatusLineRegex().Match(chunk);
                if (!status.Success)
                {
                    continue;
                }

                var etag = ETagHeaderRegex().Match(chunk);
                var bodyStart = chunk.IndexOf('{', StringComparison.Ordinal);
                parts.Add(new BatchPart(
                    int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture),
                    etag.Success ? etag.Groups[1].Value.Trim() : null,
                    bodyStart >= 0 ? chunk[bodyStart..] : ""));
            }

            return parts;
        }

        [GeneratedRegex(@"boundary=(changesetresponse_[^\s;]+)")]
        private static partial Regex ChangesetBoundaryRegex();

        [GeneratedRegex(@"HTTP/1\.1 (\d{3})")]
        private static partial Regex StatusLineRegex();

        [GeneratedRegex(@"(?im)^ETag:\s*(.+?)\r?$")]
        private static partial Regex ETagHeaderRegex();
    }
}

/// <summary>The Table service's JSON entity format (odata=minimalmetadata), by hand: no reflection.</summary>
internal static class TableEntityJson
{
    private const int MaxEntityBytes = 1024 * 1024;
    private const int MaxStringChars = 32 * 1024;
    private const int MaxBinaryBytes = 64 * 1024;
    private const int MaxKeyChars = 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string FormatDateTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime()),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)),
    };

    /// <summary>Applies the service's documented size formula, so an oversized entity fails with names, not a bare 400.</summary>
    public static void CheckLimits(string table, TableEntity entity)
    {
        var pk = TableKey.Escape(entity.PartitionKey);
        var rk = TableKey.Escape(entity.RowKey);
        if (pk.Length > MaxKeyChars || rk.Length > MaxKeyChars)
        {
            throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"a stored key may hold at most {MaxKeyChars} characters (partition {pk.Length}, row {rk.Length} after escaping)", null, "KeyTooLong");
        }

        long size = 4 + ((pk.Length + 1) * 2) + ((rk.Length + 1) * 2);
        foreach (var (name, value) in entity.Properties)
        {
            if (value is null)
            {
                continue;
            }

            long valueSize = value switch
            {
                string s => 4 + (s.Length * 2L),
                decimal m => 4 + (m.ToString(CultureInfo.InvariantCulture).Length * 2L),
                byte[] b => 4 + b.Length,
                bool => 1,
                int => 4,
                Guid => 16,
                _ => 8,
            };
            if (value is string str && str.Length > MaxStringChars)
            {
                throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                    $"property '{name}' has {str.Length} characters; a string property holds at most {MaxStringChars} (64 KiB UTF-16)", null, "PropertyValueTooLarge");
            }

            if (value is byte[] bytes && bytes.Length > MaxBinaryBytes)
            {
                throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                    $"property '{name}' has {bytes.Length} bytes; a binary property holds at most {MaxBinaryBytes} (64 KiB)", null, "PropertyValueTooLarge");
            }

            size += 8 + ((name.Length + 1) * 2L) + valueSize;
        }

        if (size > MaxEntityBytes)
        {
            throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"it is about {size} bytes; an entity holds at most {MaxEntityBytes} (1 MiB)", null, "EntityTooLarge");
        }
    }

    public static byte[] Write(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("PartitionKey", TableKey.Escape(entity.PartitionKey));
            writer.WriteString("RowKey", TableKey.Escape(entity.RowKey));
            foreach (var (name, value) in entity.Properties)
            {
                if (name is "PartitionKey" or "RowKey" or "Timestamp" || name.Contains('@', StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"'{name}' is reserved and cannot be a property name.", nameof(entity));
                }

                WriteProperty(writer, name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, object? value)
    {
        switch (value)
        {
            case null:
                // Table Storage has no null: an absent property is the closest thing (and Merge leaves it alone).
                return;
            case string s:
                writer.WriteString(name, s);
                return;
            case bool b:
                writer.WriteBoolean(name, b);
                return;
            case int i:
                writer.WriteNumber(name, i);
                return;
            case long l:
                writer.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                Annotate(writer, name, "Edm.Int64");
                return;
            case double d:
                if (double.IsFinite(d))
                {
                    writer.WriteNumber(name, d);
                }
                else
                {
                    writer.WriteString(name, double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                // Without the annotation a whole-number double would come back as Int32.
                Annotate(writer, name, "Edm.Double");
                return;
            case decimal m:
                writer.WriteString(name, m.ToString(CultureInfo.InvariantCulture));
                return;
            case DateTimeOffset dto:
                writer.WriteString(name, FormatDateTime(dto));
                Annotate(writer, name, "Edm.DateTime");
                return;
            case DateTime dt:
                writer.WriteString(name, FormatDateTime(ToUtc(dt)));
                Annotate(writer, name, "Edm.DateTime");
                return;
            case Guid g:
                writer.WriteString(name, g.ToString("D"));
                Annotate(writer, name, "Edm.Guid");
                return;
            case byte[] bytes:
                writer.WriteBase64String(name, bytes);
                Annotate(writer, name, "Edm.Binary");
                return;
            default:
                throw new ArgumentException($"Property '{name}' has type {value.GetType().Name}, which Table Storage cannot hold (use string, bool, int, long, double, decimal, DateTimeOffset, Guid or byte[]).");
        }
    }

    private static void Annotate(Utf8JsonWriter writer, string name, string edmType) => writer.WriteString(name + "@odata.type", edmType);

    public static TableEntity Read(JsonElement element)
    {
        string? partitionKey = null;
        string? rowKey = null;
        string? etag = null;
        DateTimeOffset? timestamp = null;
        Dictionary<string, string>? types = null;
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.EndsWith("@odata.type", StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.String)
            {
                (types ??= new(StringComparer.Ordinal))[property.Name[..^"@odata.type".Length]] = property.Value.GetString()!;
            }
        }

        var values = new List<KeyValuePair<string, object?>>();
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name == "odata.etag")
            {
                etag = property.Value.GetString();
                continue;
            }

            if (name.StartsWith("odata.", StringComparison.Ordinal) || name.Contains('@', StringComparison.Ordinal))
            {
                continue;
            }

            switch (name)
            {
                case "PartitionKey":
                    partitionKey = TableKey.Unescape(property.Value.GetString() ?? "");
                    continue;
                case "RowKey":
                    rowKey = TableKey.Unescape(property.Value.GetString() ?? "");
                    continue;
                case "Timestamp":
                    timestamp = ParseDateTime(property.Value.GetString());
                    continue;
            }

            string? edmType = null;
            types?.TryGetValue(name, out edmType);
            values.Add(new(name, ReadValue(property.Value, edmType)));
        }

        var entity = new TableEntity(partitionKey ?? "", rowKey ?? "") { ETag = etag, Timestamp = timestamp };
        foreach (var (name, value) in values)
        {
            entity.Properties[name] = value;
        }

        return entity;
    }

    private static object? ReadValue(JsonElement value, string? edmType)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Number:
                if (edmType == "Edm.Double")
                {
                    return value.GetDouble();
                }

                if (edmType == "Edm.Int64")
                {
                    return value.GetInt64();
                }

                // Untyped numbers are Int32 unless they carry a fraction or exponent.
                var raw = value.GetRawText();
                if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0 && value.TryGetInt32(out var i))
                {
                    return i;
                }

                return value.GetDouble();
            case JsonValueKind.String:
                var text = value.GetString()!;
                return edmType switch
                {
                    "Edm.Int64" => long.Parse(text, CultureInfo.InvariantCulture),
                    "Edm.Int32" => int.Parse(text, CultureInfo.InvariantCulture),
                    "Edm.Double" => text switch
                    {
                        "NaN" => double.NaN,
                        "Infinity" => double.PositiveInfinity,
                        "-Infinity" => double.NegativeInfinity,
                        _ => double.Parse(text, CultureInfo.InvariantCulture),
                    },
                    "Edm.DateTime" => ParseDateTime(text),
                    "Edm.Guid" => Guid.Parse(text),
                    "Edm.Binary" => Convert.FromBase64String(text),
                    "Edm.Boolean" => bool.Parse(text),
                    _ => text,
                };
            default:
                throw new FormatException($"Unexpected JSON {value.ValueKind} in a table entity.");
        }
    }

    private static DateTimeOffset? ParseDateTime(string? text) => text is null
        ? null
        : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

/// <summary>A storage error answer: code from x-ms-error-code or the body (JSON for tables, XML for queues).</summary>
internal sealed record StorageError(string? Code, string? Message)
{
    public static StorageError Read(Response response)
    {
        var body = response.Content?.ToString() ?? "";
        var parsed = Parse(body);
        return response.Headers.TryGetValue("x-ms-error-code", out var code) && !string.IsNullOrEmpty(code)
            ? parsed with { Code = code }
            : parsed;
    }

    public static StorageError Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return new StorageError(null, null);
        }

        try
        {
            if (body.TrimStart().StartsWith('{'))
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("odata.error", out var error))
                {
                    var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                    string? message = null;
                    if (error.TryGetProperty("message", out var m))
                    {
                        message = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ToString();
                    }

                    return new StorageError(code, message?.Split('\n')[0]);
                }
            }
            else if (body.TrimStart().StartsWith('<'))
            {
                var xml = System.Xml.Linq.XDocument.Parse(body);
                var root = xml.Root;
                return new StorageError(root?.Element("Code")?.Value, root?.Element("Message")?.Value.Split('\n')[0]);
            }
        }
        catch (Exception ex) when (ex is JsonException or System.Xml.XmlException)
        {
            // An unparseable error body still has a status; fall through to the raw text.
        }

        return new StorageError(null, body.Length > 200 ? body[..200] : body);
    }

    public static bool IsTransport(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        RequestFailedException => true,
        AggregateException agg => agg.InnerExceptions.All(e => IsTransport(e, cancellationToken)),
        HttpRequestException or IOException => true,
        _ => false,
    };

    public static Exception ToException(Response response, StorageError error, string service, string what)
    {
        var text = $"{service} could not {what}: {response.Status} {error.Code} {error.Message}".TrimEnd();
        if (response.Status is 408 or 429 or >= 500)
        {
            return new TransientStorageException(text + " (after retries)", response.Status, error.Code);
        }

        return new PermanentStorageException(text, response.Status, error.Code);
    }
}
