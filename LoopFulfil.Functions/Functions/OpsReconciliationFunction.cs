using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class OpsReconciliationFunction
{
    private readonly ReconciliationReports _reports;

    public OpsReconciliationFunction(ReconciliationReports reports) => _reports = reports;

    /// <summary>
    /// <c>GET /api/ops/reconciliation/latest</c> (JSON), <c>latest.csv</c>, <c>latest.html</c>, or one run
    /// (<c>{runId}[.csv|.html]</c>); <c>?mode=Daily|Audit</c> picks the newest run of a mode. Master key only; answered
    /// by <see cref="OpsApi.ReconciliationReportAsync"/> (404 no such run, 400 unknown mode).
    /// </summary>
    [Function("OpsReconciliationReport")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/reconciliation/{name}")] HttpRequest request,
        string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpsActionResult(await OpsApi.ReconciliationReportAsync(_reports, name, request.Query["mode"], request.HttpContext.RequestAborted));
    }
}
