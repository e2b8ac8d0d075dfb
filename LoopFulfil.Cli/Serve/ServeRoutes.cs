using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Health;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.LocalHost;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Webhooks;
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
    public const string InspectionPath = "/api/returns/{id}/inspection";

    /// <summary>The header the Functions host reads function keys from; the ops routes read <c>LocalHost:AdminKey</c> from it.</summary>
    public const string AdminKeyHeader = "x-functions-key";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static void Map(WebApplication app)
    {
        MapWebhook(app);
        app.MapGet(HealthPath, HealthAsync);
        MapInspection(app);

        var ops = app.MapGroup(OpsPrefix).AddEndpointFilter(RequireAdminKeyAsync);
        ops.MapGet("/exceptions", ListExceptionsAsync);
        ops.MapGet("/exceptions/{id}", GetExceptionAsync);
        ops.MapPost("/exceptions/{id}/replay", ReplayExceptionAsync);
        ops.MapPost("/exceptions/{id}/resolve", ResolveExceptionAsync);
        ops.MapPost("/exceptions/replay", ReplayCategoryAsync);
        ops.MapGet("/reconciliation/{name}", ReconciliationReportAsync);
    }

    /// <summary>The webhook route alone (it needs only <see cref="WebhookIngress"/> and an <see cref="IMessageSender"/>).</summary>
    internal static void MapWebhook(IEndpointRouteBuilder app) => app.MapPost(WebhookPath, ReceiveWebhookAsync);

    /// <summary>The inspection route alone, behind the admin key (it needs only <see cref="InspectionIngress"/> and <see cref="LocalHostOptions"/>).</summary>
    internal static void MapInspection(IEndpointRouteBuilder app) => app.MapPost(InspectionPath, SubmitInspectionAsync).AddEndpointFilter(RequireAdminKeyAsync);

    private static async Task ReceiveWebhookAsync(HttpContext http, WebhookIngress ingress, IMessageSender sender)
    {
        // The same request/response mapping as the Functions trigger (WebhookHttp), so both hosts answer Loop alike.
        var response = await ingress.HandleAndSendAsync(WebhookHttp.ToWebhookRequest(http.Request), sender, http.RequestAborted).ConfigureAwait(false);
        await WebhookHttp.WriteAsync(response, http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<IResult> SubmitInspectionAsync(HttpContext http, InspectionIngress inspections, string id)
    {
        // The same mapping as the Functions trigger (InspectionIngress): 202, 400, or 503 + Retry-After.
        var response = await inspections.SubmitAsync(id, http.Request.Body, http.RequestAborted).ConfigureAwait(false);
        if (response.RetryAfterHeaderValue is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }

        return response.Receipt is { } receipt
            ? Results.Json(receipt, Json, statusCode: response.StatusCode)
            : Problem(response.StatusCode, response.Error ?? "The inspection was not accepted.");
    }

    /// <summary>Same contract as the Functions app's OpsReconciliationReport: <c>latest|runId</c> with <c>.csv</c>, <c>.html</c> or JSON.</summary>
    private static async Task<IResult> ReconciliationReportAsync(ReconciliationReports reports, string name, string? mode, CancellationToken cancellationToken)
    {
        ReconciliationMode? modeFilter = null;
        if (!string.IsNullOrEmpty(mode))
        {
            if (!Enum.TryParse(mode, ignoreCase: true, out ReconciliationMode parsed) || !Enum.IsDefined(parsed))
            {
                return Problem(StatusCodes.Status400BadRequest, $"Unknown mode; use one of {string.Join(", ", Enum.GetNames<ReconciliationMode>())}.");
            }

            modeFilter = parsed;
        }

        var (runId, format) = ReconciliationReports.SplitName(name);
        var report = runId == "latest" ? await reports.GetLatestAsync(modeFilter, cancellationToken).ConfigureAwait(false) : await reports.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        if (report is null)
        {
            return Problem(StatusCodes.Status404NotFound, runId == "latest" ? "No reconciliation has run yet." : $"No reconciliation run {runId}.");
        }

        return format switch
        {
            "csv" => Results.File(System.Text.Encoding.UTF8.GetBytes(ReconciliationReports.RenderCsv(report)), "text/csv; charset=utf-8", $"reconciliation-{report.RunId}.csv"),
            "html" => Results.Content(reports.RenderHtml(report), "text/html; charset=utf-8"),
            _ => Results.Content(ReconciliationReports.RenderJson(report), "application/json; charset=utf-8"),
        };
    }

    private static async Task<IResult> HealthAsync(HealthCheck health, CancellationToken cancellationToken)
    {
        var report = await health.CheckAsync(cancellationToken).ConfigureAwait(false);
        var body = new HealthBody(report.Healthy ? "healthy" : "unhealthy", report.Version, report.StorageReachable, report.CheckedAt);
        return Results.Json(body, Json, statusCode: report.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> ListExceptionsAsync(ExceptionService exceptions, string? status, string? category, CancellationToken cancellationToken)
    {
        if (!TryParse<ExceptionStatus>(status, out var statusFilter) || !TryParse<ExceptionCategory>(category, out var categoryFilter))
        {
            return Problem(StatusCodes.Status400BadRequest, $"status must be one of {Names<ExceptionStatus>()}; category one of {Names<ExceptionCategory>()}.");
        }

        var list = new List<ExceptionRecordView>();
        await foreach (var record in exceptions.ListAsync(statusFilter, categoryFilter, cancellationToken).ConfigureAwait(false))
        {
            list.Add(ExceptionRecordView.From(record));
        }

        return Results.Json(list, Json);
    }

    private static async Task<IResult> GetExceptionAsync(ExceptionService exceptions, string id, CancellationToken cancellationToken)
    {
        var record = await exceptions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? Problem(StatusCodes.Status404NotFound, $"No exception record {id}.") : Results.Json(ExceptionRecordView.From(record), Json);
    }

    private static async Task<IResult> ReplayExceptionAsync(ExceptionService exceptions, string id, CancellationToken cancellationToken)
    {
        var result = await exceptions.ReplayAsync(id, cancellationToken).ConfigureAwait(false);
        var status = result.Outcome switch
        {
            ReplayOutcome.Replayed => StatusCodes.Status200OK,
            ReplayOutcome.NotFound => StatusCodes.Status404NotFound,
            _ => StatusCodes.Status409Conflict,
        };
        return Results.Json(ReplayView.From(id, result), Json, statusCode: status);
    }

    private static async Task<IResult> ResolveExceptionAsync(ExceptionService exceptions, string id, string? note, CancellationToken cancellationToken)
    {
        var record = await exceptions.ResolveAsync(id, note, cancellationToken).ConfigureAwait(false);
        return record is null ? Problem(StatusCodes.Status404NotFound, $"No exception record {id}.") : Results.Json(ExceptionRecordView.From(record), Json);
    }

    private static async Task<IResult> ReplayCategoryAsync(ExceptionService exceptions, string? category, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(category) || !TryParse<ExceptionCategory>(category, out var parsed) || parsed is null)
        {
            return Problem(StatusCodes.Status400BadRequest, $"category is required: one of {Names<ExceptionCategory>()}.");
        }

        var results = await exceptions.ReplayAllOpenAsync(parsed.Value, cancellationToken).ConfigureAwait(false);
        return Results.Json(results.Select(r => ReplayView.From(r.Record?.Id ?? "?", r)).ToList(), Json);
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
        where TEnum : struct, Enum
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (Enum.TryParse<TEnum>(text.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(text, out _))
        {
            value = parsed;
            return true;
        }

        return false;
    }

    internal static string Names<TEnum>()
        where TEnum : struct, Enum => string.Join(", ", Enum.GetNames<TEnum>());

    private static IResult Problem(int status, string detail) => Results.Json(new ProblemBody(status, detail), Json, statusCode: status);

    private sealed record ProblemBody(int Status, string Detail);
}

/// <summary>The body of <c>GET /api/health</c> (the same shape as the Functions app's).</summary>
internal sealed record HealthBody(string Status, string Version, bool StorageReachable, DateTimeOffset CheckedAt);
