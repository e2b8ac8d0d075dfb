using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using LoopFulfil.Functions.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Functions;

/// <summary>The warehouse's inspection route over the real inspection service and ledger on Azurite.</summary>
public class InspectionFunctionTests
{
    private static async Task<(InspectionFunction Function, RecordingMessageSender Sent)> CreateAsync()
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var sent = new RecordingMessageSender();
        var service = new InspectionService(new ReturnLedger(store, await AzuriteTestServer.CreateBlobStoreAsync(), TimeProvider.System), sent, TimeProvider.System, NullLogger<InspectionService>.Instance);
        return (new InspectionFunction(service), sent);
    }

    [Fact]
    public async Task A_valid_inspection_is_accepted_and_enqueues_the_return_in_its_session()
    {
        var (function, sent) = await CreateAsync();
        var request = FunctionTestKit.Post(Encoding.UTF8.GetBytes("""{"lines":[{"line_item_id":"501","passed":true,"disposition":"back_to_stock"},{"line_item_id":"502","passed":false,"disposition":"junk","note":"torn"}]}"""), signature: null);

        OpsResponse result = Assert.IsType<OpsActionResult>(await function.Run(request, "7001")).Response;

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

        OpsResponse result = Assert.IsType<OpsActionResult>(await function.Run(request, "7002")).Response;

        Assert.Equal(400, result.Status);
        Assert.StartsWith("application/problem+json", result.ContentType, StringComparison.Ordinal);
        Assert.Empty(sent.Sent);
    }
}
