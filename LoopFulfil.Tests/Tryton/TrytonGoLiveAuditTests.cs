using LoopFulfil.Sandbox.Tryton;
using LoopFulfil.Tests.GoLive;
using Microsoft.Extensions.Time.Testing;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// <c>loopfulfil audit</c> against the Tryton engine: its set-up (eng/tryton/setup.py) is the correct one, with the
/// quarantine a lost-and-found waste location of the warehouse received through Tryton's return flow.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonGoLiveAuditTests(TrytonFixture fixture)
{
    private const string Tee = "TEE-BLK-M";

    [Fact]
    public async Task Audit_of_the_tryton_set_up_exits_zero_and_accepts_the_waste_location_quarantine()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero));
        await using var h = await TrytonHarness.StartAsync(fixture.Engine);
        var orderName = TrytonHarness.UniqueOrderName();
        await h.CreateShippedSaleAsync(orderName, "Demo Customer A", (Tee, 1m, 25.00m));
        await GoLiveAuditTests.SubscribeAsync(h.Loop, GoLiveAuditTests.WebhookUrl, "return.created", "return.updated", "return.closed");
        GoLiveAuditTests.AddRecentReturn(h.Loop, time.GetUtcNow(), orderName, Tee);

        var (code, stdout, stderr) = await RunAtAsync(time, new Dictionary<string, string?>(h.Settings), "audit", "--webhook-url", GoLiveAuditTests.WebhookUrl);

        Assert.True(code == 0, $"audit exited {code}: {stderr}\n{stdout}");
        var lines = stdout.Split('\n');
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("FAIL", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("PASS", StringComparison.Ordinal)
            && l.Contains($"quarantine location — {TrytonEngine.Codes.Quarantine} (lost_found, a waste location of the warehouse)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("PASS", StringComparison.Ordinal) && l.Contains("orders of recent returns in Fulfil", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("PASS", StringComparison.Ordinal) && l.Contains("returns reaching Fulfil another way", StringComparison.Ordinal));
    }
}
