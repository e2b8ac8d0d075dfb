using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Loop;

public class LoopSandboxTests
{
    [Fact]
    public async Task Webhooks_are_signed_over_the_exact_bytes_with_slashes_escaped_like_loop()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { WebhookTargetUrl = receiver.Url, WebhookSecret = "s3cret" });
        var payload = LoopReturnBuilder.AReturn().WithLine("TEE-BLK/M", 25m).WithTrigger(null).BuildJson();

        await sandbox.SendWebhookAsync("return", "return.created", payload);

        var (body, signature) = Assert.Single(receiver.Received);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes("s3cret"), body));
        Assert.Equal(expected, signature);
        Assert.Contains("TEE-BLK\\/M", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        var parsed = LoopJson.Deserialize<LoopReturn>(body);
        Assert.Equal(("return.created", "TEE-BLK/M"), (parsed.Trigger, parsed.LineItems[0].Sku));
    }

    [Fact]
    public async Task A_raw_body_with_a_trailing_comma_is_sent_as_is_and_still_parses()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { WebhookTargetUrl = receiver.Url });
        var raw = LoopFixtures.Bytes("giftcard-requested-bonus.trailing-comma.txt");

        var sent = await sandbox.SendRawWebhookAsync("giftcard", "giftcard.requested", raw);

        Assert.Equal(200, Assert.Single(sent).StatusCode);
        var (body, signature) = Assert.Single(receiver.Received);
        Assert.Equal(raw, body);
        Assert.Equal(sandbox.Sign(raw), signature);
        Assert.Equal(23.50m, LoopJson.Deserialize<LoopGiftCardEvent>(body).TotalCreditIssued);
    }

    [Fact]
    public async Task Admin_routes_create_returns_change_state_and_notify()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { WebhookTargetUrl = receiver.Url });
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };

        using var created = await http.PostAsync(new Uri("_sandbox/returns", UriKind.Relative),
            new StringContent(LoopReturnBuilder.AReturn("7700001").WithLine("HAT-RED", 30m).BuildString(), Encoding.UTF8, "application/json"));
        using var expired = await http.PostAsJsonAsync(new Uri("_sandbox/returns/7700001/state", UriKind.Relative), new { state = "expired" });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.NoContent), (created.StatusCode, expired.StatusCode));
        Assert.Equal("expired", sandbox.GetState("7700001"));
        await sandbox.WaitForWebhookAsync(d => d.Trigger == "return.updated", TimeSpan.FromSeconds(15));
        Assert.Contains(sandbox.WebhookDeliveries, d => d.Trigger == "return.created");
    }

    [Fact]
    public async Task Api_routes_require_the_api_key_but_admin_routes_do_not()
    {
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = true });
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };

        using var anonymous = await http.GetAsync(new Uri("api/2026-10/warehouse/return/details?return_id=70001", UriKind.Relative));
        using var admin = await http.GetAsync(new Uri("_sandbox/returns/70001", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("GEN-UNAUTHORIZED", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Demo_data_covers_the_demo_orders_and_skus()
    {
        await using var sandbox = await LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = true });

        string[] ids = ["70001", "70002", "70003", "70004", "70005"];
        var demo = ids
            .Select(id => LoopJson.Deserialize<LoopReturn>(sandbox.GetReturn(id)!.ToJsonString()))
            .ToList();

        Assert.Equal(["#1001", "#1002", "#1003", "#1004", "#1005"], demo.Select(r => r.OrderName));
        Assert.Equal(["HAT-RED", "MUG:12OZ", "TEE-BLK/M"], demo.SelectMany(r => r.LineItems).Select(l => l.Sku!).Distinct().Order(StringComparer.Ordinal));
        Assert.False(demo[1].Exchanges[0].IsSeparateOrder);
        Assert.True(demo[2].Exchanges[0].IsSeparateOrder);
        Assert.Equal(25.00m, demo[3].GiftCard);
        Assert.Equal(2, demo[4].LineItems.Count);
        Assert.Single(demo[4].LineItems.Select(l => l.ProviderLineItemId).Distinct());
        Assert.All(demo, r => Assert.Equal(r.ReturnTotal, r.LineItems.Sum(l => l.Price - l.Discount + l.Tax)));
    }

    [Fact]
    public async Task Orders_on_api_2026_10_need_an_atom_created_at_but_2026_07_does_not()
    {
        await using var sandbox = await LoopSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };
        http.DefaultRequestHeaders.Add("X-Authorization", sandbox.ApiKey);
        var order = new JsonObject { ["external_id"] = "SO-9", ["name"] = "#9" };

        using var current = await http.PutAsJsonAsync(new Uri("api/2026-10/orders", UriKind.Relative), order);
        using var legacy = await http.PutAsJsonAsync(new Uri("api/2026-07/orders", UriKind.Relative), order);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, current.StatusCode);
        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);
        Assert.Equal(1, sandbox.CommerceWriteCount("orders"));
    }
}
