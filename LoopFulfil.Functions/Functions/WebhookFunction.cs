using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class WebhookFunction
{
    private readonly WebhookIngress _ingress;
    private readonly IMessageSender _sender;

    public WebhookFunction(WebhookIngress ingress, IMessageSender sender)
    {
        _ingress = ingress;
        _sender = sender;
    }

    /// <summary>
    /// <c>POST /api/loop/webhooks</c>: Loop's webhook deliveries. Anonymous at the host: the HMAC signature is the
    /// authentication (a function key would have to be in the registered URL, and Loop sends none, so every delivery
    /// would get 401 before the signature is checked). Verifies and enqueues to <c>loop-returns</c>
    /// through <see cref="WebhookIngress.HandleAndSendAsync"/>: 202 when queued or parked, 401 bad signature, 413 too
    /// large, 503 + Retry-After when it could not be stored or sent (Loop retries).
    /// </summary>
    [Function("LoopWebhook")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = WebhookHttp.Route)] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await _ingress.HandleAndSendAsync(WebhookHttp.ToWebhookRequest(request), _sender, request.HttpContext.RequestAborted);
        return new WebhookActionResult(response);
    }
}
