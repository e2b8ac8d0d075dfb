using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// <see cref="ILoopClient"/> over a typed <see cref="HttpClient"/> whose base address is <c>{BaseUrl}{ApiVersion}/</c>
/// and which sends <c>X-Authorization</c>. It does not retry: the HttpClient pipeline does (retry outside,
/// <see cref="LoopRateLimitHandler"/> and <see cref="LoopAttemptTimeoutHandler"/> inside), and whatever still fails
/// becomes a typed permanent or transient exception here.
/// </summary>
public sealed partial class LoopClient : ILoopClient
{
    /// <summary>Name of the HttpClient registration, for adding handlers to its pipeline.</summary>
    public const string HttpClientName = "Loop";

    /// <summary>Loop's API key header (no Bearer prefix).</summary>
    public const string AuthorizationHeader = "X-Authorization";

    /// <summary>Loop's limit on <c>pageSize</c>.</summary>
    public const int MaxPageSize = 750;

    /// <summary>Loop rejects list ranges longer than this.</summary>
    public static readonly TimeSpan MaxListWindow = TimeSpan.FromDays(120);

    /// <summary>Note content must be shorter than this.</summary>
    public const int MaxNoteLength = 255;

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly LoopOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LoopClient> _logger;

    public LoopClient(HttpClient http, IOptions<LoopOptions> options, TimeProvider timeProvider, ILogger<LoopClient> logger)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>Sets base address, key and no overall timeout (attempts are bounded by <see cref="LoopAttemptTimeoutHandler"/>).</summary>
    public static void Configure(HttpClient http, LoopOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        http.BaseAddress = options.VersionedBaseAddress();
        http.Timeout = Timeout.InfiniteTimeSpan;
        http.DefaultRequestHeaders.Remove(AuthorizationHeader);
        http.DefaultRequestHeaders.TryAddWithoutValidation(AuthorizationHeader, options.ApiKey);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public async Task<LoopReturn> GetReturnAsync(string returnId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        var body = await SendForBodyAsync(HttpMethod.Get, $"warehouse/return/details?return_id={Uri.EscapeDataString(returnId)}", null, cancellationToken);
        return LoopJson.Deserialize<LoopReturn>(body);
    }

    public async IAsyncEnumerable<LoopReturn> ListReturnsAsync(LoopReturnListQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = query.PageSize ?? _options.ReturnsPageSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        var from = FloorToSecond(query.From.ToUniversalTime());
        var to = CeilingToSecond((query.To ?? _time.GetUtcNow()).ToUniversalTime());
        if (to < from)
        {
            throw new ArgumentException("The list range ends before it starts.", nameof(query));
        }

        // Loop's state filter takes one value as far as its docs show; one pass per state avoids guessing an array syntax.
        string?[] states = query.States.Count == 0 ? [null] : [.. query.States.Distinct(StringComparer.Ordinal)];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (windowFrom, windowTo) in Windows(from, to))
        {
            foreach (var state in states)
            {
                var url = ListUrl(windowFrom, windowTo, query.Filter, state, pageSize);
                while (url is not null)
                {
                    var page = await GetListPageAsync(url, cancellationToken);
                    foreach (var item in page.Returns)
                    {
                        // Windows share their boundary second, so a return can come back twice.
                        if (item.Id is null || seen.Add(item.Id))
                        {
                            yield return item;
                        }
                    }

                    url = NextPage(page.NextPageUrl);
                }
            }
        }
    }

    public async Task<IReadOnlyList<LoopReturnNote>> GetReturnNotesAsync(string returnId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        var path = $"warehouse/return/{Escape(returnId)}/notes";
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);

        // Loop answers 422 rather than an empty list when a return has no notes.
        if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            return [];
        }

        ThrowIfFailed(response, body, Operation(HttpMethod.Get, path));
        return ReadList<LoopReturnNote>(body, "notes");
    }

    public async Task<LoopProduct> UpsertProductAsync(LoopProductUpsert product, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(product);
        var body = await SendForBodyAsync(HttpMethod.Put, "products", Json(product), cancellationToken);
        return ReadUnwrapped<LoopProduct>(body, "product");
    }

    public async Task<LoopVariant> UpsertVariantAsync(string productExternalId, LoopVariantUpsert variant, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(productExternalId);
        ArgumentNullException.ThrowIfNull(variant);
        var body = await SendForBodyAsync(HttpMethod.Put, $"products/external/{Escape(productExternalId)}/product-variants", Json(variant), cancellationToken);
        return ReadUnwrapped<LoopVariant>(body, "product_variant");
    }

    public async Task<LoopOrder> UpsertOrderAsync(LoopOrderUpsert order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var body = await SendForBodyAsync(HttpMethod.Put, "orders", Json(order), cancellationToken);
        return ReadUnwrapped<LoopOrder>(body, "order");
    }

    public async Task<LoopCustomer> UpsertCustomerAsync(LoopCustomerUpsert customer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customer);
        var body = await SendForBodyAsync(HttpMethod.Put, "customers", Json(customer), cancellationToken);
        return ReadUnwrapped<LoopCustomer>(body, "customer");
    }

    public async Task<LoopLocation> UpsertLocationAsync(LoopLocationUpsert location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var body = await SendForBodyAsync(HttpMethod.Put, "locations", Json(location), cancellationToken);
        return ReadUnwrapped<LoopLocation>(body, "location");
    }

    public async Task<LoopInventory> SetInventoryAsync(string variantId, string locationId, long availableCount, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variantId);
        ArgumentException.ThrowIfNullOrWhiteSpace(locationId);
        var content = Json(new Dictionary<string, long> { ["available_count"] = availableCount });
        // Sets an absolute count: a second arrival changes nothing.
        var body = await SendForBodyAsync(HttpMethod.Post, $"inventories/{Escape(variantId)}/{Escape(locationId)}", content, cancellationToken, RequestRepeatability.Repeatable);
        return ReadUnwrapped<LoopInventory>(body, "inventory");
    }

    public async Task<IReadOnlyList<LoopWebhookSubscription>> ListWebhooksAsync(CancellationToken cancellationToken)
    {
        var body = await SendForBodyAsync(HttpMethod.Get, "webhooks", null, cancellationToken);
        return ReadList<LoopWebhookSubscription>(body, "webhooks");
    }

    public async Task<LoopWebhookSubscription> CreateWebhookAsync(string topic, string trigger, Uri url, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentException.ThrowIfNullOrWhiteSpace(trigger);
        ArgumentNullException.ThrowIfNull(url);
        var request = new Dictionary<string, string>
        {
            ["topic"] = topic,
            ["trigger"] = trigger,
            ["url"] = url.AbsoluteUri,
            ["status"] = "active",
        };
        var body = await SendForBodyAsync(HttpMethod.Post, "webhooks", Json(request), cancellationToken);
        return ReadUnwrapped<LoopWebhookSubscription>(body, "webhook");
    }

    internal static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Windows(DateTimeOffset from, DateTimeOffset to)
    {
        var start = from;
        do
        {
            var end = to - start > MaxListWindow ? start + MaxListWindow : to;
            yield return (start, end);
            start = end;
        }
        while (start < to);
    }

    private static string ListUrl(DateTimeOffset from, DateTimeOffset to, LoopReturnListFilter filter, string? state, int pageSize)
    {
        var url = new StringBuilder("warehouse/return/list?paginate=true")
            .Append("&pageSize=").Append(pageSize.ToString(CultureInfo.InvariantCulture))
            .Append("&from=").Append(Uri.EscapeDataString(LoopTimestamps.ToListQuery(from)))
            .Append("&to=").Append(Uri.EscapeDataString(LoopTimestamps.ToListQuery(to)))
            .Append("&filter=").Append(filter == LoopReturnListFilter.CreatedAt ? "created_at" : "updated_at");
        if (state is not null)
        {
            url.Append("&state=").Append(Uri.EscapeDataString(state));
        }

        return url.ToString();
    }

    private string? NextPage(string? nextPageUrl)
    {
        if (string.IsNullOrWhiteSpace(nextPageUrl))
        {
            return null;
        }

        if (!Uri.TryCreate(nextPageUrl, UriKind.Absolute, out var next))
        {
            return nextPageUrl;
        }

        // The API key rides on every request: never follow a link off Loop's own host.
        var baseAddress = _http.BaseAddress ?? _options.VersionedBaseAddress();
        if (Uri.Compare(next, baseAddress, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new PermanentIntegrationException($"Loop's nextPageUrl points at {next.Host}, not {baseAddress.Host}; refusing to send the API key there.");
        }

        return nextPageUrl;
    }

    private async Task<LoopReturnListPage> GetListPageAsync(string url, CancellationToken cancellationToken)
    {
        var body = await SendForBodyAsync(HttpMethod.Get, url, null, cancellationToken);
        if (FirstSignificantByte(body) == (byte)'[')
        {
            return new LoopReturnListPage { Returns = LoopJson.Deserialize<List<LoopReturn>>(body) };
        }

        return LoopJson.Deserialize<LoopReturnListPage>(body);
    }

    private async Task<byte[]> SendForBodyAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, RequestRepeatability? repeatability = null)
    {
        using var response = await SendAsync(method, path, content, cancellationToken, repeatability);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        ThrowIfFailed(response, body, Operation(method, path));
        return body;
    }

    /// <param name="repeatability">
    /// Unset: GET is repeatable, and so is PUT (Loop's PUTs are upserts by external id); every POST is not unless said.
    /// </param>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, RequestRepeatability? repeatability = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.RelativeOrAbsolute)) { Content = content };
        request.MarkRepeatable(repeatability ?? (method == HttpMethod.Get || method == HttpMethod.Put ? RequestRepeatability.Repeatable : RequestRepeatability.NotRepeatable));
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw Unavailable(Operation(method, path), "timed out", null, null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(Operation(method, path), "timed out", null, null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Unavailable(Operation(method, path), "could not be reached", null, null, ex);
        }
    }

    private void ThrowIfFailed(HttpResponseMessage response, byte[] body, string operation)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = response.StatusCode;
        var code = (int)status;
        _logger.LogWarning("Loop {Operation} failed with HTTP {Status}", operation, code);
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new LoopAuthenticationException(status, operation);
        }

        if (status == HttpStatusCode.TooManyRequests || status == HttpStatusCode.RequestTimeout || code >= 500)
        {
            throw Unavailable(operation, $"answered HTTP {code}", status, RetryAfter(response), null);
        }

        var error = LoopError.TryRead(body);
        if (status == HttpStatusCode.NotFound)
        {
            throw new LoopNotFoundException(operation, error?.Message);
        }

        throw new LoopRequestRejectedException(status, operation, error?.Code, error?.Message);
    }

    private LoopUnavailableException Unavailable(string operation, string what, HttpStatusCode? status, TimeSpan? retryAfter, Exception? inner)
    {
        if (inner is not null)
        {
            _logger.LogWarning("Loop {Operation} {What}", operation, what);
        }

        return new LoopUnavailableException($"Loop {operation} {what}.", status, retryAfter, inner);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static string Operation(HttpMethod method, string path)
    {
        var query = path.IndexOf('?', StringComparison.Ordinal);
        return $"{method.Method} {(query < 0 ? path : path[..query])}";
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static ByteArrayContent Json<T>(T value)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, LoopJson.Options));
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private static T ReadUnwrapped<T>(byte[] body, string wrapper)
    {
        // Loop wraps some single-resource responses ({"order": {...}}) and not others; accept both.
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(wrapper, out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            return inner.Deserialize<T>(LoopJson.Options) ?? throw new JsonException($"Loop sent an empty {wrapper}.");
        }

        return root.Deserialize<T>(LoopJson.Options) ?? throw new JsonException($"Loop sent an empty {wrapper}.");
    }

    private static List<T> ReadList<T>(byte[] body, string envelope)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(envelope, out var inner))
        {
            root = inner;
        }

        return root.ValueKind == JsonValueKind.Array ? root.Deserialize<List<T>>(LoopJson.Options) ?? [] : [];
    }

    private static bool IsJsonTrue(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body).Trim();
        return text == "true" || text == "\"true\"";
    }

    private static byte FirstSignificantByte(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF))
            {
                return b;
            }
        }

        return 0;
    }

    private static DateTimeOffset FloorToSecond(DateTimeOffset value)
        => new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), value.Offset);

    private static DateTimeOffset CeilingToSecond(DateTimeOffset value)
    {
        var floor = FloorToSecond(value);
        return floor == value ? value : floor.AddSeconds(1);
    }
}

/// <summary>Fits free text into a Loop return note.</summary>
public static class LoopNotes
{
    /// <summary>Trims <paramref name="content"/> to fewer than 255 characters, marking a cut with an ellipsis.</summary>
    public static string Fit(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var trimmed = content.Trim();
        return trimmed.Length < LoopClient.MaxNoteLength ? trimmed : string.Concat(trimmed.AsSpan(0, LoopClient.MaxNoteLength - 2), "…");
    }
}

/// <summary>A page of the Detailed Returns List (the Returns API uses camelCase for its page links).</summary>
public sealed class LoopReturnListPage
{
    public IReadOnlyList<LoopReturn> Returns { get; init; } = [];

    [System.Text.Json.Serialization.JsonPropertyName("nextPageUrl")]
    public string? NextPageUrl { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("previousPageUrl")]
    public string? PreviousPageUrl { get; init; }
}
