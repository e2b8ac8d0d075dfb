using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class InspectionFunction
{
    private readonly InspectionIngress _inspections;

    public InspectionFunction(InspectionIngress inspections) => _inspections = inspections;

    /// <summary>
    /// <c>POST /api/returns/{id}/inspection</c> (function key): the warehouse's verdict per returned unit, through
    /// <see cref="OpsApi.SubmitInspectionAsync"/>: 202 with the receipt; 400 for an invalid inspection;
    /// 503 with Retry-After when it could not be stored or enqueued (the warehouse retries).
    /// </summary>
    [Function("ReturnInspection")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "returns/{id}/inspection")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.SubmitInspectionAsync(_inspections, id, request.Body, request.HttpContext.RequestAborted));
    }
}
