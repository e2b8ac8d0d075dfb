using System.Text;
using LoopFulfil.Core.Reconciliation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class OpsReconciliationFunction
{
    private readonly ReconciliationReports reports;

    public OpsReconciliationFunction(ReconciliationReports reports) => this.reports = reports;

    /// <summary>
    /// <c>GET /api/ops/reconciliation/latest</c> (JSON), <c>latest.csv</c>, <c>latest.html</c>, or the same for one run
    /// (<c>/api/ops/reconciliation/{runId}[.csv|.html]</c>); <c>?mode=Daily|Audit</c> picks the newest run of a mode.
    /// Master key only (<see cref="AuthorizationLevel.Admin"/>); under <c>/api/ops</c> because the Functions host
    /// reserves <c>/admin</c>. 404 when there is no such run yet, 400 for an unknown mode.
    /// </summary>
    [Function("OpsReconciliationReport")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/reconciliation/{name}")] HttpRequest request,
        string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(name);
        (string runId, string format) = ReconciliationReports.SplitName(name);
        ReconciliationMode? mode = null;
        string? modeText = request.Query["mode"];
        if (!string.IsNullOrEmpty(modeText))
        {
            if (!Enum.TryParse(modeText, ignoreCase: true, out ReconciliationMode parsed) || !Enum.IsDefined(parsed))
            {
                return new BadRequestObjectResult(new { error = $"Unknown mode; use one of {string.Join(", ", Enum.GetNames<ReconciliationMode>())}." });
            }

            mode = parsed;
        }

        CancellationToken ct = request.HttpContext.RequestAborted;
        ReconciliationReport? report = runId == "latest" ? await reports.GetLatestAsync(mode, ct) : await reports.GetAsync(runId, ct);
        if (report is null)
        {
            return new NotFoundObjectResult(new { error = runId == "latest" ? "No reconciliation has run yet." : $"No reconciliation run {runId}." });
        }

        return format switch
        {
            "csv" => new FileContentResult(Encoding.UTF8.GetBytes(ReconciliationReports.RenderCsv(report)), "text/csv; charset=utf-8")
            {
                FileDownloadName = $"reconciliation-{report.RunId}.csv",
            },
            "html" => new ContentResult { Content = reports.RenderHtml(report), ContentType = "text/html; charset=utf-8", StatusCode = StatusCodes.Status200OK },
            _ => new ContentResult { Content = ReconciliationReports.RenderJson(report), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK },
        };
    }
}
