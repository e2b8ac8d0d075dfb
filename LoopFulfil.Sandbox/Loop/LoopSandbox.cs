using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Sandbox.Loop;

/// <summary>
/// A stateful simulation of the Loop Returns API over real HTTP on 127.0.0.1: returns with Loop's state rules,
/// the paginated returns list, return actions and notes, Commerce Data upserts, webhook subscriptions, and signed
/// webhooks sent on state changes. Faults come from <see cref="Faults"/>. Independent of Core's client on purpose.
/// </summary>
public sealed partial class LoopSandbox : IAsyncDisposable
{
    /// <summary>Resources whose writes are counted by <see cref="CommerceWriteCount"/>.</summary>
    public static readonly IReadOnlyList<string> CommerceResources = ["products", "variants", "orders", "customers", "locations", "inventories"];

    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly HttpClient _webhookHttp = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<JsonObject> _returns = [];
    private readonly Dictionary<string, List<JsonObject>> _notes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _flagCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _processCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _processDetails = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _failNextProcessing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _commerce = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _commerceWrites = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Variant, string Location), long> _inventory = [];
    private readonly List<LoopSandboxCommerceWrite> _commerceLog = [];
    private readonly Dictionary<(string Resource, string Id), JsonObject> _commerceById = [];
    private readonly List<JsonObject> _webhooks = [];
    private readonly List<LoopSandboxRequest> _requests = [];
    private readonly List<LoopSandboxWebhookDelivery> _deliveries = [];
    private readonly List<Task> _background = [];

    // Disposal ends a processing delay still waiting: on a fake clock nobody advances it would otherwise hold disposal.
    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;
    private readonly Lock _rateGate = new();
    private readonly Queue<TimeSpan> _arrivals = new();
    private long _nextId = 900_001;
    private LoopbackApp? _app;

    private LoopSandbox(LoopSandboxOptions options)
    {
        Options = options;
        WebhookTargetUrl = options.WebhookTargetUrl;
        ProcessingDelay = options.ProcessingDelay;
        foreach (var resource in CommerceResources)
        {
            _commerce[resource] = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            _commerceWrites[resource] = 0;
        }
    }

    internal LoopSandboxOptions Options { get; }

    internal TimeProvider Time => Options.TimeProvider;

    internal Lock Gate => _gate;

    /// <summary>Root of the sandbox, e.g. <c>http://127.0.0.1:53123/</c>.</summary>
    public Uri BaseAddress => _app?.BaseAddress ?? throw new InvalidOperationException("The sandbox is not started.");

    /// <summary>What a client uses as <c>Loop:BaseUrl</c> (the version is appended by the client).</summary>
    public Uri ApiBaseUrl => new(BaseAddress, "api/");

    public string ApiKey => Options.ApiKey;

    public string WebhookSecret => Options.WebhookSecret;

    /// <summary>Faults applied to every API request (not to <c>/_sandbox</c> admin routes).</summary>
    public FaultInjection Faults { get; } = new();

    /// <summary>Where webhooks go; when null, to matching active subscriptions.</summary>
    public Uri? WebhookTargetUrl { get; set; }

    /// <summary>How long Process Return stays queued before the return closes.</summary>
    public TimeSpan ProcessingDelay { get; set; }

    /// <summary>Starts the sandbox on a loopback port.</summary>
    public static async Task<LoopSandbox> StartAsync(LoopSandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sandbox = new LoopSandbox(options ?? new LoopSandboxOptions());
        if (sandbox.Options.SeedDemoData)
        {
            foreach (var demo in LoopSandboxDemoData.Returns(sandbox.Time.GetUtcNow()))
            {
                sandbox.AddReturn(demo, sendCreatedWebhook: false);
            }
        }

        sandbox._app = await LoopbackApp.StartAsync(
            services => services.AddSingleton(sandbox),
            app => LoopSandboxApi.Map(app, sandbox),
            sandbox.Options.Port,
            cancellationToken);
        return sandbox;
    }

    /// <summary>
    /// Adds a return from its full Loop JSON (as <c>POST /_sandbox/returns</c> does). Missing <c>id</c>, <c>state</c>
    /// and timestamps are filled in. Sends <c>return.created</c> when <paramref name="sendCreatedWebhook"/>.
    /// </summary>
    /// <returns>The return id.</returns>
    public string AddReturn(string returnJson, bool sendCreatedWebhook = true)
    {
        var node = JsonNode.Parse(returnJson, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true })?.AsObject()
            ?? throw new ArgumentException("A return must be a JSON object.", nameof(returnJson));
        return AddReturn(node, sendCreatedWebhook);
    }

    /// <inheritdoc cref="AddReturn(string, bool)"/>
    public string AddReturn(JsonObject returnJson, bool sendCreatedWebhook = true)
    {
        ArgumentNullException.ThrowIfNull(returnJson);
        var stored = (JsonObject)returnJson.DeepClone();
        stored.Remove("topic");
        stored.Remove("trigger");
        string id;
        lock (_gate)
        {
            id = Text(stored["id"]) ?? NextId().ToString(CultureInfo.InvariantCulture);
            if (stored["id"] is null)
            {
                stored["id"] = long.Parse(id, CultureInfo.InvariantCulture);
            }

            var now = Stamp();
            stored["state"] ??= "open";
            stored["created_at"] ??= now;
            stored["updated_at"] ??= Text(stored["created_at"]) ?? now;
            _returns.RemoveAll(r => Text(r["id"]) == id);
            _returns.Add(stored);
        }

        if (sendCreatedWebhook)
        {
            QueueReturnWebhook(id, "return.created");
        }

        return id;
    }

    /// <summary>
    /// Sets a return's state directly (as if changed in Loop Admin) and sends <c>return.updated</c> (or
    /// <c>return.closed</c>). <c>closed</c> is CX processing the return there: its outcomes run, as with Process
    /// Return; use <see cref="CloseWithoutProcessing"/> for Loop's Close Return.
    /// </summary>
    public void SetState(string returnId, string state, bool sendWebhook = true)
    {
        lock (_gate)
        {
            var r = FindReturn(returnId) ?? throw new KeyNotFoundException($"No sandbox return {returnId}.");
            if (state == "closed")
            {
                MarkProcessedUnsafe(r);
            }
            else
            {
                r["state"] = state;
                r["updated_at"] = Stamp();
            }
        }

        if (sendWebhook)
        {
            QueueReturnWebhook(returnId, state == "closed" ? "return.closed" : "return.updated");
        }
    }

    /// <summary>
    /// Loop's Close Return (admin or API): the return is closed and <c>return.closed</c> sent, but no outcome runs:
    /// no refund, gift card or exchange order, so <c>refunds</c> stays as it was (empty for an open return).
    /// </summary>
    public void CloseWithoutProcessing(string returnId, bool sendWebhook = true)
    {
        lock (_gate)
        {
            var r = FindReturn(returnId) ?? throw new KeyNotFoundException($"No sandbox return {returnId}.");
            r["state"] = "closed";
            r["updated_at"] = Stamp();
        }

        if (sendWebhook)
        {
            QueueReturnWebhook(returnId, "return.closed");
        }
    }

    /// <summary>The return as stored (a copy), or null.</summary>
    public JsonObject? GetReturn(string returnId)
    {
        lock (_gate)
        {
            return FindReturn(returnId)?.DeepClone().AsObject();
        }
    }

    /// <summary>Current state of a return, or null if unknown.</summary>
    public string? GetState(string returnId)
    {
        lock (_gate)
        {
            return Text(FindReturn(returnId)?["state"]);
        }
    }

    /// <summary>Contents of the notes on a return, oldest first.</summary>
    public IReadOnlyList<string> GetNotes(string returnId)
    {
        lock (_gate)
        {
            return _notes.TryGetValue(returnId, out var notes) ? [.. notes.Select(n => Text(n["content"]) ?? string.Empty)] : [];
        }
    }

    /// <summary>How many times a return was flagged successfully.</summary>
    public int FlagCount(string returnId)
    {
        lock (_gate)
        {
            return _flagCounts.GetValueOrDefault(returnId);
        }
    }

    /// <summary>How many times Process Return of a return was accepted (queued): more than once is a doubled write.</summary>
    public int ProcessCount(string returnId)
    {
        lock (_gate)
        {
            return _processCounts.GetValueOrDefault(returnId);
        }
    }

    /// <summary>The body sent with Process Return, if any.</summary>
    public JsonObject? GetProcessDetails(string returnId)
    {
        lock (_gate)
        {
            return _processDetails.TryGetValue(returnId, out var details) ? details.DeepClone().AsObject() : null;
        }
    }

    /// <summary>Makes the next Process Return of <paramref name="returnId"/> fail in the background with <c>return.processing.failed</c>.</summary>
    public void FailNextProcessing(string returnId, string? message = "Processing failed (sandbox).")
    {
        lock (_gate)
        {
            _failNextProcessing[returnId] = message;
        }
    }

    /// <summary>Successful writes to a Commerce Data resource (<see cref="CommerceResources"/>).</summary>
    public int CommerceWriteCount(string resource)
    {
        lock (_gate)
        {
            return _commerceWrites.TryGetValue(resource, out var count) ? count : throw new ArgumentException($"Unknown resource {resource}.", nameof(resource));
        }
    }

    /// <summary>Every successful Commerce Data write in arrival order (creates and updates), for ordering and duplicate checks.</summary>
    public IReadOnlyList<LoopSandboxCommerceWrite> CommerceWrites
    {
        get
        {
            lock (_gate)
            {
                return [.. _commerceLog];
            }
        }
    }

    /// <summary>A stored Commerce Data record by resource and external id (a copy), or null.</summary>
    public JsonObject? GetCommerceRecord(string resource, string externalId)
    {
        lock (_gate)
        {
            return _commerce.TryGetValue(resource, out var records) && records.TryGetValue(externalId, out var record) ? record.DeepClone().AsObject() : null;
        }
    }

    /// <summary>Available count set for a Loop variant id at a Loop location id, or null.</summary>
    public long? InventoryCount(string variantId, string locationId)
    {
        lock (_gate)
        {
            return _inventory.TryGetValue((variantId, locationId), out var count) ? count : null;
        }
    }

    /// <summary>Every API request seen, in arrival order.</summary>
    public IReadOnlyList<LoopSandboxRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests.OrderBy(r => r.At)];
            }
        }
    }

    /// <summary>Every webhook sent, in order.</summary>
    public IReadOnlyList<LoopSandboxWebhookDelivery> WebhookDeliveries
    {
        get
        {
            lock (_gate)
            {
                return [.. _deliveries];
            }
        }
    }

    /// <summary>Waits until a webhook matching <paramref name="match"/> has been delivered.</summary>
    public async Task<LoopSandboxWebhookDelivery> WaitForWebhookAsync(Func<LoopSandboxWebhookDelivery, bool> match, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(match);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var found = WebhookDeliveries.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"No matching Loop webhook within {timeout}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Signs and sends a webhook now; <paramref name="payload"/> gets <c>topic</c> and <c>trigger</c> added.</summary>
    /// <returns>The receiver's status code for each delivery (one per target).</returns>
    public async Task<IReadOnlyList<LoopSandboxWebhookDelivery>> SendWebhookAsync(string topic, string trigger, JsonObject payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var body = (JsonObject)payload.DeepClone();
        body["topic"] = topic;
        body["trigger"] = trigger;
        return await SendRawWebhookAsync(topic, trigger, LoopWireFormat.Serialize(body), cancellationToken);
    }

    /// <summary>Signs and sends exactly <paramref name="body"/> (e.g. a body with a trailing comma, as Loop once published).</summary>
    public async Task<IReadOnlyList<LoopSandboxWebhookDelivery>> SendRawWebhookAsync(string topic, string trigger, byte[] body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var signature = Sign(body);
        var results = new List<LoopSandboxWebhookDelivery>();
        foreach (var url in Targets(topic, trigger))
        {
            int status;
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("X-Loop-Signature", signature);
            try
            {
                using var response = await _webhookHttp.SendAsync(request, cancellationToken);
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = 0;
            }

            var delivery = new LoopSandboxWebhookDelivery(topic, trigger, url, body, signature, status);
            lock (_gate)
            {
                _deliveries.Add(delivery);
            }

            results.Add(delivery);
        }

        return results;
    }

    /// <summary>Base64(HMAC-SHA256(body, webhook secret)), as Loop signs.</summary>
    public string Sign(byte[] body) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), body));

    /// <summary>
    /// Completes when the background work queued so far (Process Return's closing, webhooks) has finished: the signal a
    /// test awaits instead of polling the return's state.
    /// </summary>
    public Task BackgroundWorkDone()
    {
        lock (_gate)
        {
            return Task.WhenAll([.. _background]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _disposing.CancelAsync();
        try
        {
            await BackgroundWorkDone().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A receiver that never answers must not hang disposal.
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _webhookHttp.Dispose();
        _disposing.Dispose();
    }

    internal TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// The most API requests that arrived within any span shorter than <paramref name="window"/>, as Loop would count
    /// them for a rolling limit.
    /// </summary>
    public int MaxRequestsInAnyWindow(TimeSpan window)
    {
        var arrivals = Requests.Select(r => r.At).ToList();
        var best = 0;
        var start = 0;
        for (var end = 0; end < arrivals.Count; end++)
        {
            while (arrivals[end] - arrivals[start] >= window)
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    // Stamps an API request's arrival and decides on Loop's limit in one step, so the arrivals it counts are in order.
    internal (TimeSpan At, bool Limited) Arrive()
    {
        lock (_rateGate)
        {
            var at = Elapsed;
            if (Options.RateLimit is not { } limit)
            {
                return (at, false);
            }

            while (_arrivals.TryPeek(out var oldest) && at - oldest >= Options.RateLimitWindow)
            {
                _arrivals.Dequeue();
            }

            var limited = _arrivals.Count >= limit;
            _arrivals.Enqueue(at);
            return (at, limited);
        }
    }

    internal void RecordRequest(LoopSandboxRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
        }
    }

    internal long NextId() => _nextId++;

    internal string Stamp() => Time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    internal List<JsonObject> ReturnsUnsafe => _returns;

    internal JsonObject? FindReturn(string returnId) => _returns.FirstOrDefault(r => Text(r["id"]) == returnId);

    internal List<JsonObject> NotesUnsafe(string returnId)
    {
        if (!_notes.TryGetValue(returnId, out var notes))
        {
            notes = [];
            _notes[returnId] = notes;
        }

        return notes;
    }

    internal void CountFlag(string returnId) => _flagCounts[returnId] = _flagCounts.GetValueOrDefault(returnId) + 1;

    /// <summary>An accepted Process Return: counted, and its body kept (callers hold <see cref="Gate"/>).</summary>
    internal void RecordProcessUnsafe(string returnId, JsonObject? details)
    {
        _processCounts[returnId] = _processCounts.GetValueOrDefault(returnId) + 1;
        if (details is not null)
        {
            _processDetails[returnId] = details;
        }
    }

    internal Dictionary<string, JsonObject> CommerceUnsafe(string resource) => _commerce[resource];

    internal void CountWrite(string resource) => _commerceWrites[resource]++;

    /// <summary>A stored Commerce Data record by Loop id (callers hold <see cref="Gate"/>).</summary>
    internal JsonObject? FindCommerceByIdUnsafe(string resource, string id) => _commerceById.GetValueOrDefault((resource, id));

    internal void IndexCommerceUnsafe(string resource, JsonObject stored) => _commerceById[(resource, Text(stored["id"]) ?? "")] = stored;

    internal void LogWrite(string resource, string key, string loopId, bool created) =>
        _commerceLog.Add(new LoopSandboxCommerceWrite(_commerceLog.Count + 1, resource, key, loopId, created));

    internal Dictionary<(string Variant, string Location), long> InventoryUnsafe => _inventory;

    internal List<JsonObject> WebhooksUnsafe => _webhooks;

    /// <summary>After <see cref="ProcessingDelay"/>, closes the return (or fails it when asked to) and sends the webhook.</summary>
    internal void QueueProcessing(string returnId)
    {
        Track(Task.Run(async () =>
        {
            if (ProcessingDelay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(ProcessingDelay, Time, _disposing.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            string? failure = null;
            var failed = false;
            string? state;
            lock (_gate)
            {
                if (_failNextProcessing.Remove(returnId, out failure))
                {
                    failed = true;
                }

                var r = FindReturn(returnId);
                if (r is null)
                {
                    return;
                }

                if (!failed)
                {
                    MarkProcessedUnsafe(r);
                }

                state = Text(r["state"]);
            }

            if (failed)
            {
                var payload = new JsonObject
                {
                    ["return_id"] = long.TryParse(returnId, out var numeric) ? numeric : returnId,
                    ["return_state"] = state,
                    ["message"] = failure,
                    ["source"] = "api",
                };
                await SendWebhookAsync("return.processing", "return.processing.failed", payload);
            }
            else
            {
                await SendReturnWebhookAsync(returnId, "return.closed");
            }
        }));
    }

    /// <summary>
    /// Processing executes the outcomes and closes the return. What shows it in the payload is what Loop's samples
    /// show (inferred): <c>refunds</c>, empty while open, gets one entry per gateway — the cash refund, or a manual
    /// 0.00 when nothing went back to the original payment. Callers hold <see cref="Gate"/>.
    /// </summary>
    private void MarkProcessedUnsafe(JsonObject r)
    {
        r["state"] = "closed";
        r["updated_at"] = Stamp();
        if (r["refunds"] is JsonArray { Count: > 0 })
        {
            return;
        }

        var refund = decimal.TryParse(Text(r["refund"]), NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) ? amount : 0m;
        r["refunds"] = new JsonArray(new JsonObject
        {
            ["gateway"] = refund > 0 ? "shopify_payments" : "manual",
            ["amount"] = refund.ToString("0.00", CultureInfo.InvariantCulture),
            ["currency"] = Text(r["currency"]),
            ["provider_refund_id"] = refund > 0 ? NextId().ToString(CultureInfo.InvariantCulture) : null,
        });
    }

    /// <summary>Sends a <c>return</c> webhook with the return's current body, in the background.</summary>
    internal void QueueReturnWebhook(string returnId, string trigger) => Track(SendReturnWebhookAsync(returnId, trigger));

    private async Task SendReturnWebhookAsync(string returnId, string trigger)
    {
        JsonObject? body;
        lock (_gate)
        {
            body = FindReturn(returnId)?.DeepClone().AsObject();
        }

        if (body is not null && Targets("return", trigger).Count > 0)
        {
            await SendWebhookAsync("return", trigger, body);
        }
    }

    private void Track(Task task)
    {
        lock (_gate)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    private List<Uri> Targets(string topic, string trigger)
    {
        if (WebhookTargetUrl is { } target)
        {
            return [target];
        }

        lock (_gate)
        {
            return [.. _webhooks
                .Where(w => Text(w["status"]) == "active" && Text(w["topic"]) == topic && Text(w["trigger"]) == trigger)
                .Select(w => Uri.TryCreate(Text(w["url"]), UriKind.Absolute, out var u) ? u : null)
                .OfType<Uri>()];
        }
    }

    internal static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => node.ToJsonString(),
    };
}

/// <summary>How Loop writes JSON: compact, with forward slashes escaped (PHP's json_encode), which receivers must hash as-is.</summary>
internal static class LoopWireFormat
{
    public static byte[] Serialize(JsonNode node)
        => Encoding.UTF8.GetBytes(node.ToJsonString().Replace("/", "\\/", StringComparison.Ordinal));
}
