using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class OpsPrivacyFunction
{
    private readonly ErasureService _erasure;

    public OpsPrivacyFunction(ErasureService erasure) => _erasure = erasure;

    /// <summary>
    /// <c>POST /api/ops/privacy/erase</c> with <c>{"email": "…"}</c>: <see cref="OpsApi.EraseAsync"/> erases the
    /// person's stored data; 200 with the receipt (no personal value), 400 without an address. Master key only.
    /// </summary>
    [Function("OpsPrivacyErase")]
    public async Task<IActionResult> Erase(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/privacy/erase")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.EraseAsync(_erasure, request.Body, request.HttpContext.RequestAborted));
    }
}
