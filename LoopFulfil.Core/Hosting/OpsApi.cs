using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Core.Hosting;

/// <summary>
/// An HTTP answer both hosts write byte for byte: the Functions app through an MVC result, <c>serve</c> as an
/// <see cref="IResult"/>. Errors are <c>application/problem+json</c> <c>{"status": …, "detail": "…"}</c> on both.
/// </summary>
public sealed record OpsResponse(int Status, string ContentType, byte[] Body, string? DownloadName = null) : IResult
{
    /// <summary>The Retry-After header (whole seconds) of a 503 the caller should retry; null: none.</summary>
    public string? RetryAfter { get; init; }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Text => Encoding.UTF8.GetString(Body);

    public static OpsResponse Ok<T>(T value, int status = StatusCodes.Status200OK) =>
        new(status, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(value, Json));

    public static OpsResponse Problem(int status, string detail) =>
        new(status, "application/problem+json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(new ProblemBody(status, detail), Json));

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return WriteAsync(httpContext.Response, httpContext.RequestAborted);
    }

    public async Task WriteAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = Status;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        if (RetryAfter is not null)
        {
            response.Headers.RetryAfter = RetryAfter;
        }

        if (DownloadName is not null)
        {
            response.Headers.ContentDisposition = $"attachment; filename=\"{DownloadName}\"";
        }

        await response.Body.WriteAsync(Body, cancellationToken).ConfigureAwait(false);
    }

    private sealed record ProblemBody(int Status, string Detail);
}

/// <summary>
/// The ops and inspection routes of <see cref="EntryPoints.Http"/>, once for both hosts: parse the request's values,
/// call one Core entry point, map its result to a status and body. The hosts only bind the route and write the answer.
/// </summary>
public static class OpsApi
{
    /// <summary><c>GET ops/exceptions?status=&amp;category=</c>: the matching records without raw events; 400 for an unknown filter.</summary>
    public static async Task<OpsResponse> ListExceptionsAsync(ExceptionService exceptions, string? status, string? category, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        if (!TryParse(status, out ExceptionStatus? statusFilter))
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, $"Unknown status; use one of {Names<ExceptionStatus>()}.");
        }

        if (!TryParse(category, out ExceptionCategory? categoryFilter))
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, $"Unknown category; use one of {Names<ExceptionCategory>()}.");
        }

        var records = new List<ExceptionRecordView>();
        await foreach (var record in exceptions.ListAsync(statusFilter, categoryFilter, cancellationToken).ConfigureAwait(false))
        {
            records.Add(ExceptionRecordView.From(record));
        }

        return OpsResponse.Ok(records);
    }

    /// <summary><c>GET ops/exceptions/{id}</c>: one record; 404 when there is none.</summary>
    public static async Task<OpsResponse> GetExceptionAsync(ExceptionService exceptions, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        var record = await exceptions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? NoRecord(id) : OpsResponse.Ok(ExceptionRecordView.From(record));
    }

    /// <summary><c>POST ops/exceptions/{id}/replay</c>: 200 replayed, 404 no such record, 409 nothing replayable.</summary>
    public static async Task<OpsResponse> ReplayAsync(ExceptionService exceptions, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        var result = await exceptions.ReplayAsync(id, cancellationToken).ConfigureAwait(false);
        var status = result.Outcome switch
        {
            ReplayOutcome.Replayed => StatusCodes.Status200OK,
            ReplayOutcome.NotFound => StatusCodes.Status404NotFound,
            _ => StatusCodes.Status409Conflict,
        };
        return OpsResponse.Ok(ReplayView.From(id, result), status);
    }

    /// <summary>
    /// <c>POST ops/exceptions/{id}/resolve?note=&amp;nothingToPost=true</c>: marks the record resolved by hand; 404 when
    /// there is none. <c>nothingToPost</c> (finance confirming a close without processing) applies only to
    /// ClosedWithoutProcessing records, and sticks across the return's later events.
    /// </summary>
    public static async Task<OpsResponse> ResolveAsync(ExceptionService exceptions, string id, string? note, bool? nothingToPost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        ArgumentNullException.ThrowIfNull(id);
        var resolution = nothingToPost == true ? ExceptionResolution.NothingToPost : ExceptionResolution.Fixed;
        if (resolution == ExceptionResolution.NothingToPost && !id.StartsWith(nameof(ExceptionCategory.ClosedWithoutProcessing) + "-", StringComparison.Ordinal))
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, $"nothingToPost applies only to {nameof(ExceptionCategory.ClosedWithoutProcessing)} records.");
        }

        var record = await exceptions.ResolveAsync(id, note, resolution, cancellationToken).ConfigureAwait(false);
        return record is null ? NoRecord(id) : OpsResponse.Ok(ExceptionRecordView.From(record));
    }

    /// <summary><c>POST ops/exceptions/replay?category=</c> (required): every open record of the category, one outcome each.</summary>
    public static async Task<OpsResponse> ReplayCategoryAsync(ExceptionService exceptions, string? category, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        if (!TryParse(category, out ExceptionCategory? parsed) || parsed is null)
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, $"A category is required; use one of {Names<ExceptionCategory>()}.");
        }

        var results = await exceptions.ReplayAllOpenAsync(parsed.Value, cancellationToken).ConfigureAwait(false);
        return OpsResponse.Ok(results.Select(r => ReplayView.From(r.Record?.Id ?? string.Empty, r)).ToList());
    }

    /// <summary>
    /// <c>GET ops/reconciliation/{latest|runId}[.csv|.html]?mode=Daily|Audit</c>: the report as JSON, CSV or HTML;
    /// 404 when there is no such run, 400 for an unknown mode.
    /// </summary>
    public static async Task<OpsResponse> ReconciliationReportAsync(ReconciliationReports reports, string name, string? mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reports);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!TryParse(mode, out ReconciliationMode? modeFilter))
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, $"Unknown mode; use one of {Names<ReconciliationMode>()}.");
        }

        (var runId, var format) = ReconciliationReports.SplitName(name);
        var report = runId == "latest"
            ? await reports.GetLatestAsync(modeFilter, cancellationToken).ConfigureAwait(false)
            : await reports.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        if (report is null)
        {
            return OpsResponse.Problem(StatusCodes.Status404NotFound, runId == "latest" ? "No reconciliation has run yet." : $"No reconciliation run {runId}.");
        }

        return format switch
        {
            "csv" => new OpsResponse(StatusCodes.Status200OK, "text/csv; charset=utf-8", Encoding.UTF8.GetBytes(ReconciliationReports.RenderCsv(report)), $"reconciliation-{report.RunId}.csv"),
            "html" => new OpsResponse(StatusCodes.Status200OK, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(reports.RenderHtml(report))),
            _ => new OpsResponse(StatusCodes.Status200OK, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(ReconciliationReports.RenderJson(report))),
        };
    }

    /// <summary>
    /// <c>POST ops/privacy/erase</c> with <c>{"email": "…"}</c> in the body (never the URL, so request logs do not keep
    /// it): the receipt names keys and fields, no personal value; 400 without an address. Safe to repeat.
    /// </summary>
    public static async Task<OpsResponse> EraseAsync(ErasureService erasure, Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(erasure);
        ArgumentNullException.ThrowIfNull(body);
        string? email = null;
        try
        {
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("email", out var value) && value.ValueKind == JsonValueKind.String)
            {
                email = value.GetString();
            }
        }
        catch (JsonException)
        {
            // Answered below like a body without an address.
        }

        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal))
        {
            return OpsResponse.Problem(StatusCodes.Status400BadRequest, "Send {\"email\": \"name@domain\"} as the JSON body.");
        }

        var receipt = await erasure.EraseAsync(email, cancellationToken).ConfigureAwait(false);
        return new OpsResponse(StatusCodes.Status200OK, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(receipt.ToJson()));
    }

    /// <summary><c>POST returns/{id}/inspection</c>: 202 with the receipt; 400 for an invalid inspection; 503 with Retry-After when it could not be stored or enqueued.</summary>
    public static async Task<OpsResponse> SubmitInspectionAsync(InspectionIngress inspections, string id, Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inspections);
        var response = await inspections.SubmitAsync(id, body, cancellationToken).ConfigureAwait(false);
        return response.Receipt is { } receipt
            ? OpsResponse.Ok(receipt, response.StatusCode)
            : OpsResponse.Problem(response.StatusCode, response.Error ?? "The inspection was not accepted.") with { RetryAfter = response.RetryAfterHeaderValue };
    }

    /// <summary>Enum names only: a number would parse too but says nothing to the person reading the URL.</summary>
    public static bool TryParse<T>(string? text, out T? value)
        where T : struct, Enum
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var trimmed = text.Trim();
        if (Enum.TryParse(trimmed, ignoreCase: true, out T parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(trimmed[0]) && trimmed[0] != '-')
        {
            value = parsed;
            return true;
        }

        return false;
    }

    private static string Names<T>()
        where T : struct, Enum => string.Join(", ", Enum.GetNames<T>());

    private static OpsResponse NoRecord(string id) => OpsResponse.Problem(StatusCodes.Status404NotFound, $"No exception record {id}.");
}
