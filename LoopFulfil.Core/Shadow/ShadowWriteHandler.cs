using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopFulfil.Core.Fulfil;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// The single seam every Fulfil and Loop write passes: a handler on the named <c>HttpClient</c>s (every Fulfil client
/// shares <see cref="FulfilServiceCollectionExtensions.HttpClientName"/>). In shadow mode a write is recorded in the
/// <see cref="ShadowPlanStore"/> and answered with <see cref="ShadowWritePlannedException"/>; reads go through.
/// A Fulfil write is a <c>POST model/…</c> (create) or a <c>PUT model/…/{method}</c> whose method is not a read
/// (<see cref="FulfilHttp.RepeatabilityOf"/> names the reads); a Loop write is anything but GET.
/// </summary>
public sealed partial class ShadowWriteHandler(string target, IOptionsMonitor<IntegrationOptions> options, ShadowPlanStore store, TimeProvider time, ILogger<ShadowWriteHandler> logger) : DelegatingHandler
{
    public const string FulfilTarget = "Fulfil";
    public const string LoopTarget = "Loop";
    private const int MaxBody = 16_000;
    private static readonly HashSet<string> ReadMethods = new(StringComparer.Ordinal) { "search_read", "search_count", "search", "read", "fields_get", "default_get" };
    private static readonly string[] ReferenceFields = ["reference", "channel_identifier", "description", "number"];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options.CurrentValue.Mode != IntegrationMode.Shadow || !IsWrite(request))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var write = Describe(target, request.Method, request.RequestUri?.AbsolutePath ?? "", body, ShadowScope.ReturnId, time.GetUtcNow());
        await store.RecordAsync(write, cancellationToken).ConfigureAwait(false);
        LogPlanned(logger, write.Target, write.Model, write.Method, write.ReturnId ?? "-");
        throw new ShadowWritePlannedException(write);
    }

    private bool IsWrite(HttpRequestMessage request)
    {
        if (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head)
        {
            return false;
        }

        if (target != FulfilTarget)
        {
            return true;
        }

        var last = request.RequestUri?.AbsolutePath.TrimEnd('/').Split('/')[^1] ?? "";
        return !(request.Method == HttpMethod.Put && ReadMethods.Contains(last));
    }

    /// <summary>What the request would have written: model, method, record, reference, amount (pure; tested directly).</summary>
    public static PlannedWrite Describe(string target, HttpMethod method, string path, string body, string? scopeReturnId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(method);
        string model, verb;
        int? recordId = null;
        var parts = (path ?? "").Trim('/').Split('/');
        var m = Array.IndexOf(parts, "model");
        if (target == FulfilTarget && m >= 0 && parts.Length > m + 1)
        {
            model = parts[m + 1];
            var rest = parts[(m + 2)..];
            verb = rest.Length == 0 ? "create" : rest[^1];
            if (rest.Length == 2 && int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                recordId = id;
            }
        }
        else
        {
            model = string.Join('/', parts.SkipWhile(p => p is "api" or "v1" or "v2"));
            verb = method.Method;
        }

        string? reference = null;
        decimal? amount = null;
        try
        {
            using var doc = JsonDocument.Parse(body.Length == 0 ? "null" : body);
            reference = FindReference(doc.RootElement, 0);
            amount = Amount(doc.RootElement, 0);
        }
        catch (JsonException)
        {
            // A body that is not JSON still gets recorded; only its reference and amount are unknown.
        }

        var returnId = scopeReturnId ?? (reference is not null && LoopReference().Match(reference) is { Success: true } match ? match.Groups[1].Value : null);
        return new PlannedWrite(target, model, verb, recordId, returnId, reference, amount, body.Length > MaxBody ? body[..MaxBody] : body, at);
    }

    private static string? FindReference(JsonElement e, int depth)
    {
        if (depth > 6)
        {
            return null;
        }

        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in ReferenceFields)
            {
                if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s)
                {
                    return s;
                }
            }

            return e.EnumerateObject().Select(p => FindReference(p.Value, depth + 1)).FirstOrDefault(r => r is not null);
        }

        return e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => FindReference(x, depth + 1)).FirstOrDefault(r => r is not null) : null;
    }

    // Lines (quantity × unit_price) or move lines (debit); the first level that has any answers.
    private static decimal? Amount(JsonElement e, int depth)
    {
        if (depth > 6)
        {
            return null;
        }

        if (e.ValueKind == JsonValueKind.Object)
        {
            // return_order's lines carry return_quantity; sale and invoice lines quantity.
            if ((Number(e, "quantity") ?? Number(e, "return_quantity")) is { } q && Number(e, "unit_price") is { } p)
            {
                return q * p;
            }

            if (Number(e, "debit") is { } debit)
            {
                return debit;
            }

            decimal? sum = null;
            foreach (var child in e.EnumerateObject())
            {
                if (Amount(child.Value, depth + 1) is { } a)
                {
                    sum = (sum ?? 0m) + a;
                }
            }

            return sum;
        }

        if (e.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        decimal? total = null;
        foreach (var item in e.EnumerateArray())
        {
            if (Amount(item, depth + 1) is { } a)
            {
                total = (total ?? 0m) + a;
            }
        }

        return total;
    }

    // Tryton encodes decimals as {"__class__": "Decimal", "decimal": "12.50"}.
    private static decimal? Number(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.Number ? v.GetDecimal()
        : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("decimal", out var d) && decimal.TryParse(d.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : null;

    [GeneratedRegex(@"^LOOP-([^-]+)(?:-|$)", RegexOptions.CultureInvariant)]
    private static partial Regex LoopReference();

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Shadow mode: {Target} {Model}.{Method} for return {ReturnId} planned and recorded, not sent")]
    private static partial void LogPlanned(ILogger logger, string target, string model, string method, string returnId);
}
