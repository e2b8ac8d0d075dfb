using LoopFulfil.Core.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace LoopFulfil.Functions.Http;

/// <summary>An <see cref="OpsResponse"/> as an MVC result: the same bytes <c>loopfulfil serve</c> writes.</summary>
public sealed class OpsActionResult : IActionResult
{
    public OpsActionResult(OpsResponse response) => Response = response ?? throw new ArgumentNullException(nameof(response));

    /// <summary>The answer this result writes.</summary>
    public OpsResponse Response { get; }

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Response.WriteAsync(context.HttpContext.Response, context.HttpContext.RequestAborted);
    }
}
