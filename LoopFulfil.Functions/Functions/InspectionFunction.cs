using LoopFulfil.Core.Inspection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class InspectionFunction
{
    private readonly InspectionService inspections;

    public InspectionFunction(InspectionService inspections) => this.inspections = inspections;

    /// <summary>
    /// <c>POST /api/returns/{id}/inspection</c> (function key): the warehouse's verdict per returned unit.
    /// <see cref="InspectionService.SubmitAsync"/> stores it and enqueues the return, whose pipeline moves stock out of
    /// quarantine and processes or flags the return in Loop. 202 with the receipt; 400 for an invalid inspection.
    /// </summary>
    [Function("ReturnInspection")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "returns/{id}/inspection")] HttpRequest request,
        string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var lines = await InspectionRequest.ReadLinesAsync(request.Body, request.HttpContext.RequestAborted);
            var receipt = await inspections.SubmitAsync(id, lines, request.HttpContext.RequestAborted);
            return new ObjectResult(receipt) { StatusCode = StatusCodes.Status202Accepted };
        }
        catch (InvalidInspectionException ex)
        {
            return new BadRequestObjectResult(new { error = ex.Message });
        }
    }
}
