using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Reconciliation;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Privacy;

/// <summary>
/// Issue #19: erasure on request. A local host (Azurite, both sandboxes) handles returns of two customers with
/// recognisable values; erasing one by e-mail leaves no trace of that person in any table or blob (read straight from
/// Azurite), leaves the other customer's data, keeps reconciliation's findings, and a second run changes nothing.
/// </summary>
public sealed class ErasureTests
{
    private static readonly PersonalValues Zeb = PersonalValues.Zeb;
    private static readonly PersonalValues Ottilie = PersonalValues.Ottilie;

    [Fact]
    public async Task Erasing_by_email_leaves_no_trace_in_any_table_or_blob_keeps_other_customers_and_reconciliation_and_a_second_run_changes_nothing()
    {
        await using var h = await ReconciliationHarness.StartAsync(PrivacyHarness.QuietReconciliation);
        ReconReturn[] zebs =
        [
            // Large enough that its snapshot is kept in a blob; a comment quoting the customer's name and phone.
            new("#1001", (b, x) => Zeb.On(b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1)))
                .Set("return_comment", $"Call {Zeb.FirstName} on {Zeb.Phone}").Set("padding", new string('x', 40_000))),
            new("#1001", (b, x) => Zeb.On(b.WithLine("HOOD/GRY:XL", 79.99m, lineItemId: x.Line(1)).WithExchangeOnOriginalOrder("TEE-BLK-L", 25.00m).WithRefund(54.99m))),
            new("#1003", (b, x) => Zeb.On(b.WithLine("NO-SUCH-SKU-ERASE", 30.00m, lineItemId: x.Line(1)))),
        ];
        var ottilie = new ReconReturn("#1003", (b, x) => Ottilie.On(b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)).WithGiftCard(12.00m)));
        await PrivacyHarness.CreateAndCloseAsync(h, [.. zebs, ottilie]);
        // A body that is not JSON, parked by the ingress with its bytes; and message bodies claim-checked by a host.
        await h.PostWebhookAsync(Encoding.UTF8.GetBytes($"{{\"topic\":\"return\",\"trigger\":\"return.created\",\"customer\":\"{Zeb.Email}\",\"id\":"));
        await h.DrainAsync();
        var claims = new ClaimCheck(h.Services.GetRequiredService<IBlobStore>(), TimeProvider.System);
        await claims.StoreAsync("zeb-message", zebs[1].ClosedWebhook(), CancellationToken.None);
        await claims.StoreAsync("ottilie-message", ottilie.ClosedWebhook(), CancellationToken.None);
        var before = await h.ReconcileAsync();
        var populated = await PrivacyHarness.ScanAsync(h);
        await using var privacy = PrivacyHarness.Services(h, TimeProvider.System);
        var erasure = privacy.GetRequiredService<ErasureService>();

        var receipt = await erasure.EraseAsync(Zeb.Email.ToUpperInvariant(), CancellationToken.None);
        var erased = await PrivacyHarness.ScanAsync(h);
        var again = await erasure.EraseAsync(Zeb.Email, CancellationToken.None);
        var erasedTwice = await PrivacyHarness.ScanAsync(h);
        var after = await h.ReconcileAsync();

        // The scan can fail: before erasure it finds the person in ledger rows, a payload blob and a claim-checked body.
        Assert.Contains(StorageScan.Hits(populated, [Zeb.Email]), hit => hit.Contains($"returns {zebs[2].ReturnId}", StringComparison.Ordinal));
        Assert.Contains(StorageScan.Hits(populated, [Zeb.Street]), hit => hit.Contains("bodies/", StringComparison.Ordinal));
        Assert.Contains(StorageScan.Hits(populated, [Zeb.Email]), hit => hit.Contains("claimcheck/zeb-message", StringComparison.Ordinal));

        var left = StorageScan.Hits(erased, Zeb.Scanned);
        Assert.True(left.Count == 0, "Erased person still stored:\n" + string.Join("\n", left));
        Assert.All(Ottilie.Scanned, v => Assert.NotEmpty(StorageScan.Hits(erased, [v])));
        Assert.Contains(StorageScan.Hits(erased, [Ottilie.Email]), hit => hit.Contains("claimcheck/ottilie-message", StringComparison.Ordinal));

        Assert.Equal(zebs.Select(r => r.ReturnId).Order(StringComparer.Ordinal), receipt.ReturnIds);
        Assert.Contains(receipt.Entries, e => e.Store == "blob claimcheck" && e.Key == "zeb-message" && e.Action == "deleted");
        Assert.All(zebs, r => Assert.Contains(receipt.Entries, e => e.Store == "table returns" && e.Key.StartsWith(r.ReturnId + " / ", StringComparison.Ordinal) && e.Action == "masked"));
        Assert.Empty(StorageScan.Hits([("receipt text", receipt.ToText()), ("receipt json", receipt.ToJson())], Zeb.Scanned));

        Assert.Empty(again.Entries);
        Assert.Equal(erased.Order(), erasedTwice.Order());
        Assert.Equal(PrivacyHarness.Mismatches(before), PrivacyHarness.Mismatches(after));
        Assert.Equal(before.ReturnsChecked, after.ReturnsChecked);
    }
}
