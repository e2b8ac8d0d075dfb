using System.Text.Json.Nodes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Tests.Reconciliation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Privacy;

/// <summary>
/// Issue #19: settled returns' payloads are reduced to what reconciliation and audit need once
/// <c>Privacy:RetainPayloadsDays</c> has passed, never before, and never while an exception of the return is open.
/// The pipeline runs on the sandboxes; the retention job runs on a <see cref="FakeTimeProvider"/> moved past the period.
/// </summary>
public sealed class RetentionJobTests
{
    private static readonly PersonalValues Zeb = PersonalValues.Zeb;

    [Fact]
    public async Task Settled_return_payload_loses_personal_data_only_after_the_period_keeps_its_facts_and_still_reconciles()
    {
        await using var h = await ReconciliationHarness.StartAsync(PrivacyHarness.QuietReconciliation);
        var cash = new ReconReturn("#1001", (b, x) => Zeb.On(b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1))));
        var unknownSku = new ReconReturn("#1003", (b, x) => Zeb.On(b.WithLine("NO-SUCH-SKU-RETAIN", 30.00m, lineItemId: x.Line(1))));
        await PrivacyHarness.CreateAndCloseAsync(h, cash, unknownSku);
        var before = await h.ReconcileAsync();
        var time = new FakeTimeProvider(h.Clock.GetUtcNow());
        await using var privacy = PrivacyHarness.Services(h, time, new Dictionary<string, string?> { ["Privacy:RetainPayloadsDays"] = "90" });
        var job = privacy.GetRequiredService<RetentionJob>();

        time.Advance(TimeSpan.FromDays(89));
        var early = await job.RunAsync(CancellationToken.None);

        Assert.Equal(0, early.ReturnsReduced);
        Assert.Contains(Zeb.Email, await PrivacyHarness.SnapshotTextAsync(h, cash.ReturnId), StringComparison.Ordinal);

        time.Advance(TimeSpan.FromDays(2));
        var due = await job.RunAsync(CancellationToken.None);
        var reduced = await PrivacyHarness.SnapshotTextAsync(h, cash.ReturnId);

        Assert.Equal(1, due.ReturnsReduced);
        Assert.Equal(1, due.ReturnsKeptForOpenException);
        Assert.DoesNotContain(Zeb.Scanned, v => reduced.Contains(v, StringComparison.OrdinalIgnoreCase));
        JsonNode original = cash.Json("closed", 120);
        var kept = JsonNode.Parse(reduced)!;
        foreach (var field in new[] { "id", "state", "order_name", "currency", "total", "updated_at" })
        {
            Assert.Equal(original[field]?.ToJsonString(), kept[field]?.ToJsonString());
        }

        Assert.Equal(original["line_items"]!.ToJsonString(), kept["line_items"]!.ToJsonString());
        Assert.Equal("US", (string?)kept["address"]!["country_code"]);

        // The unknown SKU's exception is open: its return's payload and the record's raw event stay whole.
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        var open = Assert.Single(await h.ExceptionRecordsAsync(), e => e.ReturnId == unknownSku.ReturnId && e.Status == ExceptionStatus.Open);
        Assert.Equal("closed", (await h.Ledger.GetSnapshotAsync(unknownSku.ReturnId, CancellationToken.None))!.State);
        Assert.Contains(Zeb.Email, await PrivacyHarness.SnapshotTextAsync(h, unknownSku.ReturnId), StringComparison.Ordinal);
        Assert.Contains(Zeb.Email, System.Text.Encoding.UTF8.GetString((await exceptions.GetAsync(open.Id, CancellationToken.None))!.RawEvent.Span), StringComparison.Ordinal);

        var after = await h.ReconcileAsync();
        Assert.Equal(PrivacyHarness.Mismatches(before), PrivacyHarness.Mismatches(after));
        Assert.DoesNotContain(after.Mismatches, m => m.ReturnId == cash.ReturnId);

        // Resolved 91 days on: the period now runs from the resolution, then the payload and the raw event go.
        h.Clock.Advance(TimeSpan.FromDays(91));
        await exceptions.ResolveAsync(open.Id, "mapped by hand", CancellationToken.None);
        var justResolved = await job.RunAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromDays(91));
        var afterResolution = await job.RunAsync(CancellationToken.None);

        Assert.Equal(0, justResolved.ReturnsReduced);
        Assert.Equal(0, justResolved.ExceptionRawEventsReduced);
        Assert.Equal(1, afterResolution.ReturnsReduced);
        Assert.Equal(1, afterResolution.ExceptionRawEventsReduced);
        Assert.DoesNotContain(Zeb.Email, await PrivacyHarness.SnapshotTextAsync(h, unknownSku.ReturnId), StringComparison.OrdinalIgnoreCase);
        var resolved = (await exceptions.GetAsync(open.Id, CancellationToken.None))!;
        var rawEvent = System.Text.Encoding.UTF8.GetString(resolved.RawEvent.Span);
        Assert.DoesNotContain(Zeb.Scanned, v => rawEvent.Contains(v, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("NO-SUCH-SKU-RETAIN", rawEvent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_works_in_pages_and_each_run_carries_on_where_the_last_one_stopped()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        ReconReturn[] returns =
        [
            new("#1001", (b, x) => Zeb.On(b.WithLine("TEE-BLK-M", 25.00m, lineItemId: x.Line(1)))),
            new("#1003", (b, x) => Zeb.On(b.WithLine("SOCK-3PK", 12.00m, lineItemId: x.Line(1)))),
            new("#1002", (b, x) => Zeb.On(b.WithLine("JEANS-32/32", 50.00m, lineItemId: x.Line(1)))),
        ];
        await PrivacyHarness.CreateAndCloseAsync(h, returns);
        Assert.Empty(await h.ExceptionRecordsAsync());
        var time = new FakeTimeProvider(h.Clock.GetUtcNow() + TimeSpan.FromDays(31));
        await using var privacy = PrivacyHarness.Services(h, time, new Dictionary<string, string?>
        {
            ["Privacy:RetainPayloadsDays"] = "30",
            ["Privacy:RetentionPageSize"] = "1",
            ["Privacy:RetentionMaxPagesPerRun"] = "1",
        });
        var job = privacy.GetRequiredService<RetentionJob>();

        var runs = new List<RetentionReport>();
        for (var i = 0; i < 5; i++)
        {
            runs.Add(await job.RunAsync(CancellationToken.None));
        }

        Assert.Equal([1, 1, 1, 0, 1], runs.Select(r => r.ReturnsExamined));
        Assert.Equal([false, false, false, true, false], runs.Select(r => r.ReturnsPassFinished));
        Assert.Equal([1, 1, 1, 0, 0], runs.Select(r => r.ReturnsReduced));
        foreach (var r in returns)
        {
            var text = await PrivacyHarness.SnapshotTextAsync(h, r.ReturnId);
            Assert.DoesNotContain(Zeb.Scanned, v => text.Contains(v, StringComparison.OrdinalIgnoreCase));
        }
    }
}
