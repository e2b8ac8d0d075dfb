using System.Text;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.AspNetCore.Mvc;
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

        var result = Assert.IsAssignableFrom<ObjectResult>(await function.Run(request, "7001"));

        Assert.Equal(202, result.StatusCode);
        var receipt = Assert.IsType<InspectionReceipt>(result.Value);
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

        var result = Assert.IsAssignableFrom<ObjectResult>(await function.Run(request, "7002"));

        Assert.Equal(400, result.StatusCode);
        Assert.Empty(sent.Sent);
    }
}
