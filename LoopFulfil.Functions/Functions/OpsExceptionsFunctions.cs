using LoopFulfil.Core.Exceptions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>
/// Operator endpoints over exception records, master key only (<see cref="AuthorizationLevel.Admin"/>). Routes are
/// under <c>/api/ops</c>, not <c>/api/admin</c>: the Functions host rejects routes and function names starting with
/// <c>admin</c> (its own admin API; azure-functions-host#1781, #7634).
/// </summary>
public sealed class OpsExceptionsFunctions
{
    private readonly ExceptionService exceptions;

    public OpsExceptionsFunctions(ExceptionService exceptions) => this.exceptions = exceptions;

    /// <summary>
    /// <c>GET /api/ops/exceptions?status=Open&amp;category=SkuNotFound</c> (both optional): the matching records,
    /// without raw events, via <see cref="ExceptionService.ListAsync"/>. 400 for an unknown status or category.
    /// </summary>
    [Function("OpsListExceptions")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/exceptions")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!TryParseOptional(request.Query["status"], out ExceptionStatus? status))
        {
            return Problem($"Unknown status; use one of {string.Join(", ", Enum.GetNames<ExceptionStatus>())}.");
        }

        if (!TryParseOptional(request.Query["category"], out ExceptionCategory? category))
        {
            return Problem($"Unknown category; use one of {string.Join(", ", Enum.GetNames<ExceptionCategory>())}.");
        }

        var records = new List<ExceptionRecordView>();
        await foreach (ExceptionRecord record in exceptions.ListAsync(status, category, request.HttpContext.RequestAborted))
        {
            records.Add(ExceptionRecordView.From(record));
        }

        return new OkObjectResult(records);
    }

    /// <summary>
    /// <c>POST /api/ops/exceptions/{id}/replay</c>: <see cref="ExceptionService.ReplayAsync"/> re-enqueues the
    /// record's raw event under a fresh MessageId. 200 replayed, 404 no such record, 409 nothing replayable (no raw
    /// event, or it still does not route).
    /// </summary>
    [Function("OpsReplayException")]
    public async Task<IActionResult> Replay(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/exceptions/{id}/replay")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        ReplayResult result = await exceptions.ReplayAsync(id, request.HttpContext.RequestAborted);
        var body = ReplayView.From(id, result);
        return new ObjectResult(body)
        {
            StatusCode = result.Outcome switch
            {
                ReplayOutcome.Replayed => StatusCodes.Status200OK,
                ReplayOutcome.NotFound => StatusCodes.Status404NotFound,
                _ => StatusCodes.Status409Conflict,
            },
        };
    }

    /// <summary>
    /// <c>POST /api/ops/exceptions/replay?category=SkuNotFound</c> (category required): replays every open record
    /// of the category through <see cref="ExceptionService.ReplayAllOpenAsync"/>; 200 with one outcome per record.
    /// </summary>
    [Function("OpsReplayCategory")]
    public async Task<IActionResult> ReplayCategory(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/exceptions/replay")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!TryParseOptional(request.Query["category"], out ExceptionCategory? category) || category is null)
        {
            return Problem($"A category is required; use one of {string.Join(", ", Enum.GetNames<ExceptionCategory>())}.");
        }

        IReadOnlyList<ReplayResult> results = await exceptions.ReplayAllOpenAsync(category.Value, request.HttpContext.RequestAborted);
        return new OkObjectResult(results.Select(r => ReplayView.From(r.Record?.Id ?? string.Empty, r)).ToList());
    }

    private static bool TryParseOptional<T>(string? value, out T? parsed)
        where T : struct, Enum
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        // Names only: a number would parse too but says nothing to the person reading the URL.
        if (Enum.TryParse(value, ignoreCase: true, out T result) && Enum.IsDefined(result) && !char.IsAsciiDigit(value.Trim()[0]))
        {
            parsed = result;
            return true;
        }

        return false;
    }

    private static BadRequestObjectResult Problem(string detail) => new(new { error = detail });
}
