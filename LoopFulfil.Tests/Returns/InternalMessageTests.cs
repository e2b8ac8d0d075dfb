using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The integration's own <c>loop-returns</c> messages carry the envelope properties a webhook gets from the ingress,
/// so the handler never reads their bodies a second time. The inspection API, the in-process bus and the returns
/// handler from DI, the ledger in Azurite, the simulators over HTTP.
/// </summary>
public sealed class InternalMessageTests
{
    private const string Tee = "TEE-BLK-M";

    [Fact]
    public async Task An_inspection_message_reaches_the_handler_with_its_trigger_return_id_and_time_and_no_body_read()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Tee, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        InspectionReceipt receipt;
        await using (var scope = h.Services.CreateAsyncScope())
        {
            receipt = await scope.ServiceProvider.GetRequiredService<InspectionService>().SubmitAsync(r.ReturnId, [new LineInspection(r.Line(1), true)], CancellationToken.None);
        }

        var reads = EnvelopeReads.Start();
        var deliveries = await h.DrainAsync();

        var delivery = Assert.Single(deliveries);
        Assert.Equal(receipt.MessageId, delivery.MessageId);
        Assert.Null(delivery.Error);
        Assert.Equal(r.ReturnId, delivery.Result!.ReturnId);
        Assert.Equal(0, reads.Reads);
    }
}
