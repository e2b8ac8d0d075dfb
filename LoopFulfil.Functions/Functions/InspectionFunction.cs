using LoopFulfil.Core.Inspection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class InspectionFunction
{
    private readonly InspectionIngress inspections;

    public InspectionFunction(InspectionIngress inspections) => this.inspections = inspections;

    /// <summary>
    /// <c>POST /api/returns/{id}/inspection</c> (function key): the warehouse's verdict per returned unit.
    /// <see cref="InspectionIngress.SubmitAsync"/> stores it and enqueues the return, whose pipeline moves stock out of
    /// quarantine and processes or flags the return in Loop. 202 with the receipt; 400 for an invalid inspection; 503
    /// with Retry-After when it could not be stored or enqueued (the sender retries).
    /// </summary>
    [Function("ReturnInspection")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "returns/{id}/inspection")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        InspectionResponse response = await inspections.SubmitAsync(id, request.Body, request.HttpContext.RequestAborted);
        if (response.RetryAfterHeaderValue is { } retryAfter)
        {
            request.HttpContext.Response.Headers.RetryAfter = retryAfter;
        }

        return new ObjectResult(response.Receipt is { } receipt ? receipt : new { error = response.Error }) { StatusCode = response.StatusCode };
    }
}
