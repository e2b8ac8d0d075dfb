using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>Settings of a <see cref="FulfilSandbox"/>.</summary>
public sealed class FulfilSandboxOptions
{
    /// <summary>0 picks a free port.</summary>
    public int Port { get; set; }

    public string ApiKey { get; set; } = "sandbox-fulfil-key";

    /// <summary>Start with <see cref="FulfilSandboxDemo"/> data.</summary>
    public bool SeedDemoData { get; set; } = true;

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public int FaultSeed { get; set; } = 12345;
}

/// <summary>
/// A stateful simulated Fulfil REST v2 (<c>/api/v2/model/…</c>) on 127.0.0.1: Tryton encoding on the wire,
/// <c>X-API-KEY</c> (or Bearer) auth, <c>UserError</c> bodies for business rules, and <see cref="Faults"/> for 429/5xx/
/// latency/timeouts. <see cref="State"/> crafts and inspects data for tests.
/// </summary>
public sealed class FulfilSandbox : IAsyncDisposable
{
    private const string Prefix = "/api/v2/model";
    private readonly LoopbackApp _app;
    private readonly ConcurrentQueue<FulfilSandboxRequest> _requests;

    private FulfilSandbox(LoopbackApp app, FulfilSandboxState state, FaultInjection faults, string apiKey, ConcurrentQueue<FulfilSandboxRequest> requests)
    {
        _app = app;
        State = state;
        Faults = faults;
        ApiKey = apiKey;
        _requests = requests;
    }

    /// <summary>The REST v2 base, e.g. <c>http://127.0.0.1:53123/api/v2/</c> (what <c>Fulfil__BaseUrl</c> points at).</summary>
    public Uri BaseAddress => new(_app.BaseAddress, "api/v2/");

    /// <summary>Root of the app (admin routes live under <c>/_sandbox</c>).</summary>
    public Uri RootAddress => _app.BaseAddress;

    public string ApiKey { get; }

    public FaultInjection Faults { get; }

    public FulfilSandboxState State { get; }

    /// <summary>Every API request answered (including faulted and refused ones), oldest first.</summary>
    public IReadOnlyList<FulfilSandboxRequest> Requests => _requests.ToArray();

    /// <summary>Requests whose method matches and whose path ends with <paramref name="pathSuffix"/> (e.g. <c>account.move/post</c>).</summary>
    public int RequestCount(string method, string pathSuffix) =>
        _requests.Count(r => string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase) && r.Path.EndsWith(pathSuffix, StringComparison.Ordinal));

    public static async Task<FulfilSandbox> StartAsync(FulfilSandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FulfilSandboxOptions();
        var state = new FulfilSandboxState(options.TimeProvider, FulfilSandboxDemo.CompanyId);
        if (options.SeedDemoData)
        {
            FulfilSandboxDemo.Seed(state, state.SeedInsert);
        }

        var faults = new FaultInjection(options.FaultSeed);
        var requests = new ConcurrentQueue<FulfilSandboxRequest>();
        var apiKey = options.ApiKey;
        var app = await LoopbackApp.StartAsync(
            _ => { },
            web => Map(web, state, faults, apiKey, requests),
            options.Port,
            cancellationToken).ConfigureAwait(false);
        return new FulfilSandbox(app, state, faults, apiKey, requests);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static void Map(WebApplication app, FulfilSandboxState state, FaultInjection faults, string apiKey, ConcurrentQueue<FulfilSandboxRequest> requests)
    {
        app.Use(async (context, next) =>
        {
            // Outermost, so faulted and refused requests are logged as well.
            if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await AnswerRecording.RunAsync(
                context,
                () => next(context),
                () => requests.Enqueue(new FulfilSandboxRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started))));
        });
        app.UseFaultInjection(faults);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) && !Authorized(context.Request, apiKey))
            {
                await WriteJson(context.Response, 401, new JsonObject { ["type"] = "AuthenticationError", ["message"] = "Invalid or missing API key / access token." });
                return;
            }

            await next(context);
        });

        app.MapGet(Prefix + "/{model}/{id:int}", (HttpContext http, string model, int id) =>
            Handle(http, ctx => state.ReadRecord(model, id, ctx)));
        app.MapPost(Prefix + "/{model}", async (HttpContext http, string model) =>
        {
            var body = await ReadBody(http.Request);
            await Handle(http, _ =>
            {
                var records = (Unwrap(body) as List<object?> ?? throw new SandboxBadRequest("Create takes a JSON array of records."))
                    .Select(r => r as Dictionary<string, object?> ?? throw new SandboxBadRequest("Each record must be an object.")).ToList();
                var ids = state.Create(model, records);
                return ids.Select(id => new Dictionary<string, object?> { ["id"] = id, ["rec_name"] = state.RecName(model, id) }).ToList();
            }, StatusCodes.Status201Created);
        });
        app.MapPut(Prefix + "/{model}/{method}", async (HttpContext http, string model, string method) =>
        {
            var body = await ReadBody(http.Request);
            await Handle(http, ctx => state.Call(model, method, Args(body), ctx));
        });
        app.MapPut(Prefix + "/{model}/{id:int}/{method}", async (HttpContext http, string model, int id, string method) =>
        {
            var body = await ReadBody(http.Request);
            await Handle(http, ctx => state.CallOnRecord(model, id, method, Args(body), ctx));
        });
    }

    private static bool Authorized(HttpRequest request, string apiKey)
    {
        var expected = Encoding.UTF8.GetBytes(apiKey);
        if (request.Headers.TryGetValue("X-API-KEY", out var key) && Same(key.ToString(), expected))
        {
            return true;
        }

        var auth = request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.Ordinal) && Same(auth["Bearer ".Length..], expected);

        static bool Same(string given, byte[] expected) =>
            System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
    }

    private static List<object?> Args(object? body) => Unwrap(body) as List<object?> ?? throw new SandboxBadRequest("Method calls take a JSON array of positional arguments.");

    /// <summary>A body that failed to parse is carried as its exception so it is answered inside <see cref="Handle"/>.</summary>
    private static object? Unwrap(object? body) => body is Exception ex ? throw ex : body;

    private static async Task<object?> ReadBody(HttpRequest request)
    {
        try
        {
            var node = await JsonNode.ParseAsync(request.Body);
            return TrytonWire.Decode(node);
        }
        catch (JsonException ex)
        {
            return new SandboxBadRequest("Body is not valid JSON: " + ex.Message);
        }
        catch (SandboxUserError ex)
        {
            return ex;
        }
    }

    private static async Task Handle(HttpContext http, Func<FulfilSandboxState.Ctx, object?> action, int successStatus = StatusCodes.Status200OK)
    {
        try
        {
            var ctx = Context(http.Request);
            var result = action(ctx);
            await WriteJson(http.Response, successStatus, TrytonWire.Encode(result));
        }
        catch (SandboxUserError ex)
        {
            await WriteJson(http.Response, 400, new JsonObject { ["type"] = "UserError", ["code"] = ex.Code, ["message"] = ex.Message, ["description"] = "" });
        }
        catch (SandboxBadRequest ex)
        {
            await WriteJson(http.Response, 400, new JsonObject { ["message"] = ex.Message });
        }
        catch (SandboxNotFound ex)
        {
            await WriteJson(http.Response, 404, new JsonObject { ["message"] = ex.Message });
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or KeyNotFoundException or OverflowException or NullReferenceException)
        {
            await WriteJson(http.Response, 400, new JsonObject { ["message"] = "Malformed arguments: " + ex.Message });
        }
    }

    private static FulfilSandboxState.Ctx Context(HttpRequest request)
    {
        var raw = request.Query["context"].ToString();
        if (string.IsNullOrEmpty(raw))
        {
            return FulfilSandboxState.Ctx.Empty;
        }

        var context = TrytonWire.Decode(JsonNode.Parse(raw)) as Dictionary<string, object?> ?? throw new SandboxBadRequest("context must be a JSON object.");
        if (context.TryGetValue("company", out var company) && company is not null && Convert.ToInt32(company, CultureInfo.InvariantCulture) != FulfilSandboxDemo.CompanyId)
        {
            throw new SandboxUserError("E_COMPANY", $"Company {company} is not accessible to this user.");
        }

        var locations = (context.GetValueOrDefault("locations") as List<object?>)?.Select(l => Convert.ToInt32(l, CultureInfo.InvariantCulture)).ToList();
        var withChilds = context.GetValueOrDefault("with_childs") is not false;
        return new FulfilSandboxState.Ctx(locations, withChilds, context.GetValueOrDefault("stock_assign") is true);
    }

    private static async Task WriteJson(HttpResponse response, int status, JsonNode? body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(body?.ToJsonString() ?? "null");
    }
}

/// <summary>One request the sandbox answered.</summary>
/// <param name="Elapsed">Time the sandbox took to answer (benchmarks tell the sandbox's own cost from the client's with it).</param>
public sealed record FulfilSandboxRequest(string Method, string Path, int Status, TimeSpan Elapsed = default);
