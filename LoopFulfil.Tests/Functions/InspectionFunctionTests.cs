using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Http;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Functions;

/// <summary>The warehouse's inspection route over the real inspection service and ledger on Azurite.</summary>
public class InspectionFunctionTests
{
    private static async Task<(InspectionFunction Function, RecordingMessageSender Sent)> CreateAsync()
    {
        var sent = new RecordingMessageSender();
        return (await CreateAsync(sent, new WebhookOptions()), sent);
    }

    /// <summary>The route over the real inspection service and ledger on Azurite, enqueueing through <paramref name="sender"/>.</summary>
    internal static async Task<InspectionIngress> CreateIngressAsync(IMessageSender sender, WebhookOptions webhookOptions)
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var service = new InspectionService(new ReturnLedger(store, await AzuriteTestServer.CreateBlobStoreAsync(), TimeProvider.System), sender, TimeProvider.System, NullLogger<InspectionService>.Instance);
        return new InspectionIngress(service, new FixedOptionsMonitor<WebhookOptions>(webhookOptions), NullLogger<InspectionIngress>.Instance);
    }

    private static async Task<InspectionFunction> CreateAsync(IMessageSender sender, WebhookOptions webhookOptions) =>
        new(await CreateIngressAsync(sender, webhookOptions));

    [Fact]
    public async Task A_valid_inspection_is_accepted_and_enqueues_the_return_in_its_session()
    {
        var (function, sent) = await CreateAsync();
        var request = FunctionTestKit.Post(Encoding.UTF8.GetBytes("""{"lines":[{"line_item_id":"501","passed":true,"disposition":"back_to_stock"},{"line_item_id":"502","passed":false,"disposition":"junk","note":"torn"}]}"""), signature: null);

        var result = Assert.IsType<OpsActionResult>(await function.Run(request, "7001")).Response;

        Assert.Equal(202, result.Status);
        var receipt = JsonSerializer.Deserialize<InspectionReceipt>(result.Body, JsonSerializerOptions.Web)!;
        Assert.Equal(("7001", 2), (receipt.ReturnId, receipt.Lines));
        var message = Assert.Single(sent.Sent);
        Assert.Equal(QueueNames.LoopReturns, message.Queue);
        Assert.Equal("7001", message.SessionId);
    }

    [Theory]
    [InlineData("""{"lines":[]}""")]
    [InlineData("""{"lines":[{"passed":true}]}""")]
    [InlineData("""not json""")]
    public async Task An_invalid_inspection_is_a_400_and_enqueues_nothing(string json)
    {
        var (function, sent) = await CreateAsync();
        var request = FunctionTestKit.Post(Encoding.UTF8.GetBytes(json), signature: null);

        var result = Assert.IsType<OpsActionResult>(await function.Run(request, "7002")).Response;

        Assert.Equal(400, result.Status);
        Assert.StartsWith("application/problem+json", result.ContentType, StringComparison.Ordinal);
        Assert.Empty(sent.Sent);
    }

    [Fact]
    public async Task An_inspection_whose_enqueue_fails_transiently_is_a_503_with_the_ingress_retry_after_not_a_500()
    {
        var function = await CreateAsync(new PendingClaimSender(), new WebhookOptions { RetryAfterSeconds = 7 });
        var request = FunctionTestKit.Post(Encoding.UTF8.GetBytes("""{"lines":[{"line_item_id":"501","passed":true,"disposition":"back_to_stock"}]}"""), signature: null);

        var result = Assert.IsType<OpsActionResult>(await function.Run(request, "7003")).Response;
        await result.WriteAsync(request.HttpContext.Response, CancellationToken.None);

        Assert.Equal(503, request.HttpContext.Response.StatusCode);
        Assert.StartsWith("application/problem+json", result.ContentType, StringComparison.Ordinal);
        Assert.Equal("7", request.HttpContext.Response.Headers.RetryAfter.ToString());
    }
}

/// <summary>A sender that finds the message's send still pending (its first sender was killed mid-send), as <c>LocalMessageSender</c> does.</summary>
internal sealed class PendingClaimSender : IMessageSender
{
    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        throw new TransientIntegrationException("Another send of this message is pending.", null, TimeSpan.FromSeconds(15));
}
