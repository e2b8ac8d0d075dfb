using System.Text.Json;
using LoopFulfil.Core.Privacy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Functions.Functions;

public sealed class OpsPrivacyFunction
{
    private readonly ErasureService erasure;

    public OpsPrivacyFunction(ErasureService erasure) => this.erasure = erasure;

    /// <summary>
    /// <c>POST /api/ops/privacy/erase</c> with <c>{"email": "…"}</c>: <see cref="ErasureService.EraseAsync"/> erases
    /// the person's stored data; 200 with the receipt (keys and field names, no personal value). The address travels in
    /// the body, never the URL, so request logs do not keep it. Master key only (<see cref="AuthorizationLevel.Admin"/>).
    /// 400 without an e-mail address. Safe to repeat.
    /// </summary>
    [Function("OpsPrivacyErase")]
    public async Task<IActionResult> Erase(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/privacy/erase")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? email = null;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("email", out JsonElement value) && value.ValueKind == JsonValueKind.String)
            {
                email = value.GetString();
            }
        }
        catch (JsonException)
        {
        }

        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal))
        {
            return new BadRequestObjectResult(new { error = "Send {\"email\": \"name@domain\"} as the JSON body." });
        }

        ErasureReceipt receipt = await erasure.EraseAsync(email, request.HttpContext.RequestAborted);
        return new ContentResult { Content = receipt.ToJson(), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };
    }
}
