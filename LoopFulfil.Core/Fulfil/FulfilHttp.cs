using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Http;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// Low-level Fulfil REST v2 model interface: read, <c>search_read</c> (offset/limit paging), create, write and
/// method calls, with Tryton encoding, the company context and the error mapping of the brief:
/// 400 UserError → <see cref="FulfilUserErrorException"/>, 401/403 → <see cref="FulfilAuthenticationException"/>,
/// 404 → <see cref="FulfilNotFoundException"/>, 429/5xx/timeouts → <see cref="TransientIntegrationException"/>.
/// Retries are not done here: the <c>HttpClient</c> is expected to carry the shared resilience handler, and each
/// request is marked repeatable or not (<see cref="RepeatabilityOf"/>): creates and state-changing method calls are
/// never resent after an unclear outcome; the caller's next attempt finds the document by its reference first.
/// </summary>
public sealed class FulfilHttp
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private static readonly object?[] DefaultOrder = [new object[] { "id", "ASC" }];

    // Method calls that only read, and write (absolute field values): a second arrival changes nothing. Every other
    // method call (post, confirm, process, return_order, receive, done, …) and every create is not repeatable.
    private static readonly HashSet<string> RepeatableMethods = new(StringComparer.Ordinal) { "search_read", "search_count", "search", "read", "fields_get", "default_get", "write" };
    private readonly HttpClient _http;
    private readonly FulfilOptions _options;
    private readonly TimeProvider _time;

    public FulfilHttp(HttpClient http, FulfilOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The options this instance sends with (company, page size).</summary>
    public FulfilOptions Options => _options;

    /// <summary><c>GET /model/{model}/{id}</c>: all fields of one record.</summary>
    public async Task<T> ReadAsync<T>(string model, int id, CancellationToken cancellationToken = default)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"model/{model}/{id}");
        using var request = new HttpRequestMessage(HttpMethod.Get, WithContext(path, null));
        var element = await SendAsync(request, path, cancellationToken).ConfigureAwait(false);
        return Deserialize<T>(element, path);
    }

    /// <summary>One page of <c>search_read</c> (<c>[domain, offset, limit, order, fields]</c>), ordered by id unless told.</summary>
    public async Task<IReadOnlyList<T>> SearchReadAsync<T>(
        string model,
        IReadOnlyList<object?> domain,
        int offset,
        int limit,
        IReadOnlyList<string> fields,
        IReadOnlyDictionary<string, object?>? context = null,
        IReadOnlyList<object?>? order = null,
        CancellationToken cancellationToken = default)
    {
        var result = await CallAsync(model, "search_read", [domain, offset, limit, order ?? DefaultOrder, fields], context, cancellationToken).ConfigureAwait(false);
        return Deserialize<List<T>>(result, $"model/{model}/search_read");
    }

    /// <summary>Every match of <c>search_read</c>, fetched in pages of <see cref="FulfilOptions.PageSize"/>.</summary>
    public async Task<IReadOnlyList<T>> SearchReadAllAsync<T>(
        string model,
        IReadOnlyList<object?> domain,
        IReadOnlyList<string> fields,
        IReadOnlyDictionary<string, object?>? context = null,
        IReadOnlyList<object?>? order = null,
        CancellationToken cancellationToken = default)
    {
        var pageSize = Math.Max(1, _options.PageSize);
        var all = new List<T>();
        for (var offset = 0; ; offset += pageSize)
        {
            var page = await SearchReadAsync<T>(model, domain, offset, pageSize, fields, context, order, cancellationToken).ConfigureAwait(false);
            all.AddRange(page);
            if (page.Count < pageSize)
            {
                return all;
            }
        }
    }

    /// <summary><c>search_count</c>.</summary>
    public async Task<int> SearchCountAsync(string model, IReadOnlyList<object?> domain, CancellationToken cancellationToken = default)
    {
        var result = await CallAsync(model, "search_count", [domain], null, cancellationToken).ConfigureAwait(false);
        return result.GetInt32();
    }

    /// <summary><c>POST /model/{model}</c> with an array of records; returns the new ids in order.</summary>
    public async Task<IReadOnlyList<int>> CreateAsync(string model, IReadOnlyList<IReadOnlyDictionary<string, object?>> records, CancellationToken cancellationToken = default)
    {
        var path = $"model/{model}";
        using var request = new HttpRequestMessage(HttpMethod.Post, WithContext(path, null)) { Content = Body(records) };
        request.MarkRepeatable(RequestRepeatability.NotRepeatable);
        var element = await SendAsync(request, path, cancellationToken).ConfigureAwait(false);
        var ids = ExtractIds(element);
        if (ids.Count != records.Count)
        {
            throw new FulfilRequestException($"Fulfil created {ids.Count} record(s) for {records.Count} sent on {path}.");
        }

        return ids;
    }

    /// <summary>
    /// <c>write</c>: <c>[[ids], values]</c>. Sent as repeatable, so only for absolute field values; a write with
    /// one2many commands (<c>create</c>, <c>add</c>) would do its work twice on a retry and must use a create instead.
    /// </summary>
    public Task WriteAsync(string model, IReadOnlyCollection<int> ids, IReadOnlyDictionary<string, object?> values, CancellationToken cancellationToken = default) =>
        CallAsync(model, "write", [ids, values], null, cancellationToken);

    /// <summary><c>PUT /model/{model}/{method}</c> with positional arguments.</summary>
    public async Task<JsonElement> CallAsync(string model, string method, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?>? context = null, CancellationToken cancellationToken = default)
    {
        var path = $"model/{model}/{method}";
        using var request = new HttpRequestMessage(HttpMethod.Put, WithContext(path, context)) { Content = Body(args) };
        request.MarkRepeatable(RepeatabilityOf(method));
        return await SendAsync(request, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT /model/{model}/{id}/{method}</c> with positional arguments.</summary>
    public async Task<JsonElement> CallOnRecordAsync(string model, int id, string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"model/{model}/{id}/{method}");
        using var request = new HttpRequestMessage(HttpMethod.Put, WithContext(path, null)) { Content = Body(args) };
        request.MarkRepeatable(RepeatabilityOf(method));
        return await SendAsync(request, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a method call may be sent twice (see <see cref="RequestRepeatabilities.Classify"/>).</summary>
    public static RequestRepeatability RepeatabilityOf(string method) =>
        RepeatableMethods.Contains(method) ? RequestRepeatability.Repeatable : RequestRepeatability.NotRepeatable;

    /// <summary>Ids from a create or method result: <c>[1,2]</c>, <c>[{"id":1}]</c>, <c>1</c> or <c>{"id":1}</c>.</summary>
    public static IReadOnlyList<int> ExtractIds(JsonElement element)
    {
        static int One(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Number => e.GetInt32(),
            JsonValueKind.Object when e.TryGetProperty("id", out var id) => id.GetInt32(),
            _ => throw new FulfilRequestException($"Unexpected id shape from Fulfil: {e.ValueKind}."),
        };

        return element.ValueKind == JsonValueKind.Array ? element.EnumerateArray().Select(One).ToList() : [One(element)];
    }

    private static ByteArrayContent Body(object payload)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(payload, TrytonJson.Options));
        content.Headers.ContentType = Json;
        return content;
    }

    private string WithContext(string path, IReadOnlyDictionary<string, object?>? extra)
    {
        var context = new Dictionary<string, object?>(StringComparer.Ordinal) { ["company"] = _options.CompanyId };
        if (extra is not null)
        {
            foreach (var (key, value) in extra)
            {
                context[key] = value;
            }
        }

        return path + "?context=" + Uri.EscapeDataString(JsonSerializer.Serialize(context, TrytonJson.Options));
    }

    private static T Deserialize<T>(JsonElement element, string path)
    {
        try
        {
            return element.Deserialize<T>(TrytonJson.Options)
                ?? throw new FulfilRequestException($"Fulfil returned null for {path}.");
        }
        catch (JsonException ex)
        {
            throw new FulfilRequestException($"Fulfil's answer to {path} does not have the expected shape: {ex.Message}", ex);
        }
    }

    private async Task<JsonElement> SendAsync(HttpRequestMessage request, string path, CancellationToken cancellationToken)
    {
        if (_options.AuthMode == FulfilAuthMode.Bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        }
        else
        {
            request.Headers.TryAddWithoutValidation("X-API-KEY", _options.ApiKey);
        }

        request.Headers.Accept.ParseAdd("application/json");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new TransientIntegrationException($"Could not reach Fulfil for {path}: {ex.HttpRequestError}.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientIntegrationException($"Fulfil did not answer {path} in time.", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                if (body.Length == 0)
                {
                    return default;
                }

                try
                {
                    using var document = JsonDocument.Parse(body);
                    return document.RootElement.Clone();
                }
                catch (JsonException ex)
                {
                    throw new FulfilRequestException($"Fulfil's answer to {path} is not JSON.", ex);
                }
            }

            throw MapError(response, body, path, _time.GetUtcNow());
        }
    }

    private static Exception MapError(HttpResponseMessage response, byte[] body, string path, DateTimeOffset now)
    {
        var status = (int)response.StatusCode;
        switch (response.StatusCode)
        {
            case HttpStatusCode.Unauthorized:
            case HttpStatusCode.Forbidden:
                return new FulfilAuthenticationException(status, path);
            case HttpStatusCode.TooManyRequests:
                return new FulfilUnavailableException(status, path, HttpResiliencePipelines.RetryAfter(response, now));
            case HttpStatusCode.RequestTimeout:
                return new FulfilUnavailableException(status, path, HttpResiliencePipelines.RetryAfter(response, now));
        }

        if (status >= 500)
        {
            return new FulfilUnavailableException(status, path, HttpResiliencePipelines.RetryAfter(response, now));
        }

        var error = ReadErrorBody(body);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new FulfilNotFoundException($"Fulfil has no {path} (HTTP 404){(error.Message is null ? "" : ": " + error.Message)}.");
        }

        if (error.Type is not null && error.Type.EndsWith("Error", StringComparison.Ordinal) && status == 400)
        {
            return new FulfilUserErrorException(error.Type, error.Code, error.Message ?? "", error.Description, path);
        }

        return new FulfilRequestException(status, $"Fulfil rejected {path} with HTTP {status}{(error.Message is null ? "" : ": " + error.Message)}.");
    }

    private static (string? Type, string? Code, string? Message, string? Description) ReadErrorBody(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            return (Text(root, "type"), Text(root, "code"), Text(root, "message"), Text(root, "description"));
        }
        catch (JsonException)
        {
            return default;
        }

        static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null => null,
                _ => value.GetRawText(),
            } : null;
    }
}
