using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class WebhookFunction
{
    private readonly WebhookIngress ingress;
    private readonly IMessageSender sender;

    public WebhookFunction(WebhookIngress ingress, IMessageSender sender)
    {
        this.ingress = ingress;
        this.sender = sender;
    }

    /// <summary>
    /// <c>POST /api/loop/webhooks</c>: Loop's webhook deliveries. Function key (the <c>code</c> query parameter of
    /// the URL registered with Loop) on top of the HMAC signature. Verifies and enqueues to <c>loop-returns</c>
    /// through <see cref="WebhookIngress.HandleAndSendAsync"/>: 202 when queued or parked, 401 bad signature, 413 too
    /// large, 503 + Retry-After when it could not be stored or sent (Loop retries).
    /// </summary>
    [Function("LoopWebhook")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = WebhookHttp.Route)] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        WebhookResponse response = await ingress.HandleAndSendAsync(WebhookHttp.ToWebhookRequest(request), sender, request.HttpContext.RequestAborted);
        return new WebhookActionResult(response);
    }
}
