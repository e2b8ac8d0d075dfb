using LoopFulfil.Core.Webhooks;
using Microsoft.AspNetCore.Mvc;

namespace LoopFulfil.Functions.Http;

/// <summary>
/// A <see cref="WebhookResponse"/> as an MVC result. Writing is Core's <see cref="WebhookHttp.WriteAsync"/>, the
/// same code the single-machine host answers with, so both hosts send Loop identical responses.
/// </summary>
public sealed class WebhookActionResult : IActionResult
{
    public WebhookActionResult(WebhookResponse response) => Response = response ?? throw new ArgumentNullException(nameof(response));

    /// <summary>The answer this result writes.</summary>
    public WebhookResponse Response { get; }

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WebhookHttp.WriteAsync(Response, context.HttpContext.Response, context.HttpContext.RequestAborted);
    }
}
