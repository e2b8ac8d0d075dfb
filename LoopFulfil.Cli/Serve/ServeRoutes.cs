using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Health;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.LocalHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// The HTTP routes of <c>loopfulfil serve</c>: the same paths and answers as the Functions app, each a thin call of
/// one Core entry point. Admin routes live under <c>/api/ops</c> (the Functions host reserves <c>/admin</c>).
/// </summary>
internal static class ServeRoutes
{
    public const string WebhookPath = "/api/" + WebhookHttp.Route;
    public const string HealthPath = "/api/health";
    public const string OpsPrefix = "/api/ops";

    /// <summary>The header the Functions host reads function keys from; the ops routes read <c>LocalHost:AdminKey</c> from it.</summary>
    public const string AdminKeyHeader = "x-functions-key";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static void Map(WebApplication app)
    {
        MapWebhook(app);
        app.MapGet(HealthPath, HealthAsync);

        // Every other route of EntryPoints.Http, answered by OpsApi exactly as the Functions app answers it.
        foreach (var entry in EntryPoints.Http.Where(e => e.Function is not "Health" and not "LoopWebhook"))
        {
            MapEntry(app, entry);
        }
    }

    /// <summary>The inspection route alone, behind the admin key (it needs only <see cref="InspectionIngress"/> and the local host's options).</summary>
    internal static void MapInspection(IEndpointRouteBuilder app) => MapEntry(app, EntryPoints.Http.Single(e => e.Function == "ReturnInspection"));

    private static void MapEntry(IEndpointRouteBuilder app, HttpEntryPoint entry)
    {
        var route = app.MapMethods("/api/" + entry.Route, [entry.Method.ToUpperInvariant()], Handler(entry.Function)).WithName(entry.Function);
        if (entry.Auth != HttpAuth.Anonymous)
        {
            // The Functions host checks a function or master key; serve has one key for both (LocalHost:AdminKey).
            route.AddEndpointFilter(RequireAdminKeyAsync);
        }
    }

    /// <summary>The webhook route alone (it needs only <see cref="WebhookIngress"/> and an <see cref="IMessageSender"/>).</summary>
    internal static void MapWebhook(IEndpointRouteBuilder app) => app.MapPost(WebhookPath, ReceiveWebhookAsync);

    private static Delegate Handler(string function) => function switch
    {
        "ReturnInspection" => static (HttpContext http, InspectionIngress inspections, string id) => OpsApi.SubmitInspectionAsync(inspections, id, http.Request.Body, http.RequestAborted),
        "OpsListExceptions" => static (ExceptionService exceptions, string? status, string? category, CancellationToken ct) => OpsApi.ListExceptionsAsync(exceptions, status, category, ct),
        "OpsGetException" => static (ExceptionService exceptions, string id, CancellationToken ct) => OpsApi.GetExceptionAsync(exceptions, id, ct),
        "OpsReplayException" => static (ExceptionService exceptions, string id, CancellationToken ct) => OpsApi.ReplayAsync(exceptions, id, ct),
        "OpsResolveException" => static (ExceptionService exceptions, string id, string? note, bool? nothingToPost, CancellationToken ct) => OpsApi.ResolveAsync(exceptions, id, note, nothingToPost, ct),
        "OpsReplayCategory" => static (ExceptionService exceptions, string? category, CancellationToken ct) => OpsApi.ReplayCategoryAsync(exceptions, category, ct),
        "OpsReconciliationReport" => static (ReconciliationReports reports, string name, string? mode, CancellationToken ct) => OpsApi.ReconciliationReportAsync(reports, name, mode, ct),
        "OpsPrivacyErase" => static (HttpContext http, ErasureService erasure) => OpsApi.EraseAsync(erasure, http.Request.Body, http.RequestAborted),
        _ => throw new InvalidOperationException($"serve has no handler for entry point {function}; add one here."),
    };

    private static async Task ReceiveWebhookAsync(HttpContext http, WebhookIngress ingress, IMessageSender sender)
    {
        // The same request/response mapping as the Functions trigger (WebhookHttp), so both hosts answer Loop alike.
        var response = await ingress.HandleAndSendAsync(WebhookHttp.ToWebhookRequest(http.Request), sender, http.RequestAborted).ConfigureAwait(false);
        await WebhookHttp.WriteAsync(response, http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<IResult> HealthAsync(HealthCheck health, CancellationToken cancellationToken)
    {
        var report = await health.CheckAsync(cancellationToken).ConfigureAwait(false);
        var body = new HealthBody(report.Healthy ? "healthy" : "unhealthy", report.Version, report.StorageReachable, report.CheckedAt);
        return Results.Json(body, Json, statusCode: report.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static async ValueTask<object?> RequireAdminKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var configured = http.RequestServices.GetRequiredService<IOptions<LocalHostOptions>>().Value.AdminKey;
        if (string.IsNullOrEmpty(configured))
        {
            return Problem(StatusCodes.Status403Forbidden, "The ops routes are off: set LocalHost__AdminKey and send it in the x-functions-key header.");
        }

        var given = http.Request.Headers[AdminKeyHeader].FirstOrDefault() ?? string.Empty;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(configured)))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Missing or wrong x-functions-key.");
        }

        return await next(context).ConfigureAwait(false);
    }

    internal static bool TryParse<TEnum>(string? text, out TEnum? value)
        where TEnum : struct, Enum => OpsApi.TryParse(text, out value);

    internal static string Names<TEnum>()
        where TEnum : struct, Enum => string.Join(", ", Enum.GetNames<TEnum>());

    private static OpsResponse Problem(int status, string detail) => OpsResponse.Problem(status, detail);
}

/// <summary>The body of <c>GET /api/health</c> (the same shape as the Functions app's).</summary>
internal sealed record HealthBody(string Status, string Version, bool StorageReachable, DateTimeOffset CheckedAt);
