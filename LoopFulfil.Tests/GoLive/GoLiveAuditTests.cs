using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using Microsoft.Extensions.Time.Testing;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.GoLive;

/// <summary>
/// <c>loopfulfil audit</c> against both sandboxes over HTTP: a correct set-up passes; a deliberately broken one lists
/// exactly its failures, each with an owner, and exits non-zero.
/// </summary>
public sealed class GoLiveAuditTests
{
    internal const string WebhookUrl = "https://merchant-loopfulfil.example/api/loop/webhooks";

    // The audit reads the last 30 days from this clock; the returns below are dated from it.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Correct_set_up_exits_zero_with_no_failed_check()
    {
        await using var fulfil = await FulfilSandbox.StartAsync();
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        await SubscribeAsync(loop, WebhookUrl, "return.created", "return.updated", "return.closed");
        AddRecentReturn(loop, _time.GetUtcNow(), "#1001", "TEE-BLK-M");
        AddRecentReturn(loop, _time.GetUtcNow(), "#1003", "SOCK-3PK", giftCard: 12.00m);

        var (code, stdout, stderr) = await RunAtAsync(_time, Settings(fulfil, loop), "audit", "--webhook-url", WebhookUrl);

        Assert.True(code == 0, $"audit exited {code}: {stderr}\n{stdout}");
        Assert.Contains("Go-live audit: ready", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL ", stdout, StringComparison.Ordinal);
        Assert.Contains("refund to original payment", stdout, StringComparison.Ordinal);
        Assert.Contains("store credit", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broken_set_up_lists_exactly_its_failures_with_owners_and_exits_non_zero()
    {
        await using var fulfil = await FulfilSandbox.StartAsync();
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        await SubscribeAsync(loop, WebhookUrl, "return.created", "return.updated");
        await SubscribeAsync(loop, "https://old-integration.example/hooks", "return.closed"); // a wrong URL
        AddRecentReturn(loop, _time.GetUtcNow(), "#1001", "TEE-BLK-M");
        AddRecentReturn(loop, _time.GetUtcNow(), "#1003", "GHOST-SKU-404"); // not in Fulfil
        var settings = Settings(fulfil, loop);
        settings["Fulfil:GiftCardLiabilityAccountCode"] = "2999"; // no such account
        settings["Fulfil:QuarantineLocationCode"] = "INV"; // an inventory-adjustment (lost and found) location
        var outDir = Path.Combine(Path.GetTempPath(), "lf-audit-" + Guid.NewGuid().ToString("N"));

        var (code, stdout, _) = await RunAtAsync(_time, settings, "audit", "--webhook-url", WebhookUrl, "--out", outDir);

        Assert.Equal(1, code);
        var failed = stdout.Split('\n').Where(l => l.TrimStart().StartsWith("FAIL", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(4, failed.Count);
        Assert.Contains(failed, l => l.Contains("[finance] Fulfil: gift-card liability account", StringComparison.Ordinal) && l.Contains("2999", StringComparison.Ordinal));
        Assert.Contains(failed, l => l.Contains("[operations] Fulfil: quarantine location", StringComparison.Ordinal) && l.Contains("lost_found", StringComparison.Ordinal));
        Assert.Contains(failed, l => l.Contains("[merchandising] Catalogue: SKUs of recent returns", StringComparison.Ordinal) && l.Contains("GHOST-SKU-404", StringComparison.Ordinal));
        Assert.Contains(failed, l => l.Contains("[operations] Loop: subscription return.closed", StringComparison.Ordinal) && l.Contains("old-integration.example", StringComparison.Ordinal));

        // The same report as files finance can open.
        var csv = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(outDir, "*.csv")));
        Assert.Equal(4, csv.Split('\n').Count(l => l.Contains(",Fail,", StringComparison.Ordinal)));
        Assert.Contains("<h1>Go-live audit: not ready</h1>", await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(outDir, "*.html"))), StringComparison.Ordinal);
        Directory.Delete(outDir, recursive: true);
    }

    [Fact]
    public async Task Lost_and_found_waste_location_of_the_warehouse_passes_as_quarantine_as_on_tryton()
    {
        await using var fulfil = await FulfilSandbox.StartAsync();
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        await SubscribeAsync(loop, WebhookUrl, "return.created", "return.updated", "return.closed");
        fulfil.State.AddWasteLocation(FulfilSandboxDemo.WarehouseId, "RET-QUAR", "Returns quarantine (waste)");
        var settings = Settings(fulfil, loop);
        settings["Fulfil:QuarantineLocationCode"] = "RET-QUAR";

        var (code, stdout, stderr) = await RunAtAsync(_time, settings, "audit", "--webhook-url", WebhookUrl);

        Assert.True(code == 0, $"audit exited {code}: {stderr}\n{stdout}");
        Assert.Contains(stdout.Split('\n'), l => l.TrimStart().StartsWith("PASS", StringComparison.Ordinal) && l.Contains("quarantine location", StringComparison.Ordinal) && l.Contains("RET-QUAR (lost_found, a waste location of the warehouse)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(FulfilSandboxDemo.SellableLocationCode, "storage")]
    [InlineData(FulfilSandboxDemo.InputLocationCode, "input")]
    public async Task Quarantine_that_counts_as_sellable_stock_fails(string quarantineCode, string which)
    {
        await using var fulfil = await FulfilSandbox.StartAsync();
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        await SubscribeAsync(loop, WebhookUrl, "return.created", "return.updated", "return.closed");
        var settings = Settings(fulfil, loop);
        settings["Fulfil:QuarantineLocationCode"] = quarantineCode;

        var (code, stdout, _) = await RunAtAsync(_time, settings, "audit", "--webhook-url", WebhookUrl);

        Assert.Equal(1, code);
        Assert.Contains(stdout.Split('\n'), l => l.TrimStart().StartsWith("FAIL", StringComparison.Ordinal) && l.Contains("quarantine location", StringComparison.Ordinal)
            && l.Contains($"the warehouse's {which} location", StringComparison.Ordinal) && l.Contains("sellable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Return_orders_made_outside_the_integration_are_reported_as_a_double_path()
    {
        await using var fulfil = await FulfilSandbox.StartAsync();
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = false });
        await SubscribeAsync(loop, WebhookUrl, "return.created", "return.updated", "return.closed");
        AddRecentReturn(loop, _time.GetUtcNow(), "#1003", "SOCK-3PK");
        // A return sale keyed in by hand (or imported by Fulfil's Shopify channel) on the same order.
        var party = fulfil.State.AddParty("Walk-in");
        var handMade = fulfil.State.AddSale("RMA-HAND-1", null, party, "processing", ("SOCK-3PK", -1m, 12.00m));
        var original = Assert.Single(fulfil.State.FindByReference("sale.sale", "#1003")).Id;
        fulfil.State.LinkReturnSale(handMade, original);

        var (code, stdout, _) = await RunAtAsync(_time, Settings(fulfil, loop), "audit", "--webhook-url", WebhookUrl);

        Assert.Equal(1, code);
        Assert.Contains(stdout.Split('\n'), l => l.Contains("FAIL", StringComparison.Ordinal) && l.Contains("Double path", StringComparison.Ordinal) && l.Contains("RMA-HAND-1", StringComparison.Ordinal));
    }

    private static Dictionary<string, string?> Settings(FulfilSandbox fulfil, LoopSandbox loop) => new()
    {
        ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
        ["Fulfil:ApiKey"] = fulfil.ApiKey,
        ["Fulfil:WarehouseId"] = FulfilSandboxDemo.WarehouseId.ToString(CultureInfo.InvariantCulture),
        ["Fulfil:JournalId"] = FulfilSandboxDemo.MiscJournalId.ToString(CultureInfo.InvariantCulture),
        ["Fulfil:ReturnsClearingAccountCode"] = FulfilSandboxDemo.ReturnsClearingAccountCode,
        ["Fulfil:GiftCardLiabilityAccountCode"] = FulfilSandboxDemo.GiftCardLiabilityAccountCode,
        ["Fulfil:SaleLookup"] = "OrderName",
        ["Refunds:HandlingFeeAccountCode"] = FulfilSandboxDemo.ReturnFeeAccountCode,
        ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
        ["Loop:ApiKey"] = loop.ApiKey,
        ["Webhooks:Secret"] = "audit-test-secret",
    };

    internal static async Task SubscribeAsync(LoopSandbox loop, string url, params string[] triggers)
    {
        using var http = new HttpClient { BaseAddress = new Uri(loop.ApiBaseUrl, "v1/") };
        http.DefaultRequestHeaders.Add("X-Authorization", loop.ApiKey);
        foreach (var trigger in triggers)
        {
            using var response = await http.PostAsJsonAsync("webhooks", new { topic = "return", trigger, url, status = "active" });
            response.EnsureSuccessStatusCode();
        }
    }

    internal static void AddRecentReturn(LoopSandbox loop, DateTimeOffset now, string orderName, string sku, decimal giftCard = 0m)
    {
        var created = now.AddDays(-2);
        var builder = LoopReturnBuilder.AReturn().WithTrigger(null).WithState("closed").ForOrder(orderName, "555000" + orderName.TrimStart('#'))
            .CreatedAt(created).WithLine(sku, 12.00m);
        if (giftCard > 0)
        {
            builder.WithGiftCard(giftCard);
        }

        var json = builder.BuildJson();
        json["updated_at"] = created.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture);
        loop.AddReturn(json, sendCreatedWebhook: false);
    }
}
