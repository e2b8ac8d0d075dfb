using LoopFulfil.Core.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

/// <summary>The JSON body of <c>GET /api/health</c>.</summary>
/// <param name="Status"><c>healthy</c> or <c>unhealthy</c>.</param>
/// <param name="Version">The running build.</param>
/// <param name="StorageReachable">Whether Table Storage answered.</param>
/// <param name="CheckedAt">When the probe ran (UTC).</param>
public sealed record HealthResponse(string Status, string Version, bool StorageReachable, DateTimeOffset CheckedAt);

public sealed class HealthFunction
{
    private readonly HealthCheck _health;

    public HealthFunction(HealthCheck health) => _health = health;

    /// <summary>
    /// <c>GET /api/health</c>, anonymous so uptime monitors and the deployment smoke test need no key:
    /// 200 when Table Storage is reachable, 503 when not. Reveals only the version and a boolean.
    /// </summary>
    [Function("Health")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var report = await _health.CheckAsync(request.HttpContext.RequestAborted);
        var body = new HealthResponse(report.Healthy ? "healthy" : "unhealthy", report.Version, report.StorageReachable, report.CheckedAt);
        return new ObjectResult(body)
        {
            StatusCode = report.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
        };
    }
}
