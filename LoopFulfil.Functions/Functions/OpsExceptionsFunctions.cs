using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>
/// Operator endpoints over exception records, master key only (<see cref="AuthorizationLevel.Admin"/>), answered by
/// <see cref="OpsApi"/> exactly as <c>serve</c> answers them. Routes are under <c>/api/ops</c>, not <c>/api/admin</c>:
/// the Functions host rejects routes and function names starting with <c>admin</c> (azure-functions-host#1781, #7634).
/// </summary>
public sealed class OpsExceptionsFunctions
{
    private readonly ExceptionService _exceptions;

    public OpsExceptionsFunctions(ExceptionService exceptions) => _exceptions = exceptions;

    /// <summary><c>GET /api/ops/exceptions?status=Open&amp;category=SkuNotFound</c> (both optional).</summary>
    [Function("OpsListExceptions")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/exceptions")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.ListExceptionsAsync(_exceptions, request.Query["status"], request.Query["category"], request.HttpContext.RequestAborted));
    }

    /// <summary><c>GET /api/ops/exceptions/{id}</c>: one record, 404 when there is none.</summary>
    [Function("OpsGetException")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/exceptions/{id}")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.GetExceptionAsync(_exceptions, id, request.HttpContext.RequestAborted));
    }

    /// <summary><c>POST /api/ops/exceptions/{id}/replay</c>: 200 replayed, 404 no such record, 409 nothing replayable.</summary>
    [Function("OpsReplayException")]
    public async Task<IActionResult> Replay(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/exceptions/{id}/replay")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.ReplayAsync(_exceptions, id, request.HttpContext.RequestAborted));
    }

    /// <summary><c>POST /api/ops/exceptions/{id}/resolve?note=…&amp;nothingToPost=true</c>: resolved by hand, 404 when there is none.</summary>
    [Function("OpsResolveException")]
    public async Task<IActionResult> Resolve(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/exceptions/{id}/resolve")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool? nothingToPost = bool.TryParse(request.Query["nothingToPost"], out var parsed) ? parsed : null;
        return new OpsActionResult(await OpsApi.ResolveAsync(_exceptions, id, request.Query["note"], nothingToPost, request.HttpContext.RequestAborted));
    }

    /// <summary><c>POST /api/ops/exceptions/replay?category=SkuNotFound</c> (required): every open record of it.</summary>
    [Function("OpsReplayCategory")]
    public async Task<IActionResult> ReplayCategory(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/exceptions/replay")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.ReplayCategoryAsync(_exceptions, request.Query["category"], request.HttpContext.RequestAborted));
    }
}
