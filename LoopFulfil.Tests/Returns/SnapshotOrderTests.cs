using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The stored snapshot never goes backwards in Loop's lifecycle: signed webhooks through the ingress and the handler,
/// the ledger in Azurite. Loop's times have whole seconds and often only <c>created_at</c>.
/// </summary>
public sealed class SnapshotOrderTests
{
    [Fact]
    public async Task A_retried_return_created_with_the_same_time_as_return_closed_keeps_the_return_closed()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var open = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001");
        var closed = LoopReturnBuilder.ForDemoSale("#1001", open.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("closed");

        await h.SendAsync(open.Webhook("return.created"));
        await h.SendAsync(closed.Webhook("return.closed"));
        await h.SendAsync(open.Webhook("return.created"));

        var stored = await h.Ledger.GetSnapshotAsync(open.ReturnId, CancellationToken.None);
        Assert.Equal("closed", stored!.State);
    }

    [Fact]
    public async Task A_close_stamped_only_in_closed_at_is_newer_than_an_earlier_update()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var updated = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").EditedAtMinutes(30);
        var closed = LoopReturnBuilder.ForDemoSale("#1001", updated.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("closed");
        // The close carries its moment only in closed_at (an hour in); updated_at/edited_at stay at creation.
        var closeBody = JsonNode.Parse(closed.Webhook("return.closed"))!.AsObject();
        closeBody["closed_at"] = LoopReturnBuilder.DemoSaleReturnCreated.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture);

        await h.SendAsync(Encoding.UTF8.GetBytes(closeBody.ToJsonString()));
        await h.SendAsync(updated.Webhook("return.updated"));

        var stored = await h.Ledger.GetSnapshotAsync(updated.ReturnId, CancellationToken.None);
        Assert.Equal("closed", stored!.State);
    }

    [Fact]
    public async Task An_open_snapshot_timed_with_a_fraction_inside_the_second_of_a_stored_close_does_not_reopen_it()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var closed = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").WithState("closed").EditedAtMinutes(30);
        var open = LoopReturnBuilder.ForDemoSale("#1001", closed.ReturnId).WithUnits(Demo.TeeM, 1, 25.00m, "11001").EditedAtMinutes(30);
        // The same second as the close, with a fraction: a time with more digits, not a later moment in Loop's terms.
        var openBody = JsonNode.Parse(open.Webhook("return.updated"))!.AsObject();
        var editedAt = LoopReturnBuilder.DemoSaleReturnCreated.AddMinutes(30);
        openBody["edited_at"] = editedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'.400Z'", CultureInfo.InvariantCulture);

        await h.SendAsync(closed.Webhook("return.closed"));
        await h.SendAsync(Encoding.UTF8.GetBytes(openBody.ToJsonString()));

        var stored = await h.Ledger.GetSnapshotAsync(closed.ReturnId, CancellationToken.None);
        Assert.Equal("closed", stored!.State);
    }
}
