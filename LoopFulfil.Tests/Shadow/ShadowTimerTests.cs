using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Tests.Outcomes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Shadow;

/// <summary>
/// The timers in shadow mode (issue #18, docs/go-live.md "Run in shadow mode"): every timer of
/// <see cref="EntryPoints.Timers"/> — the one list both hosts run (serve binds it, the Functions app's timer functions
/// call it, EntryPointParityTests holds them to it) — runs without failing and writes nothing to Fulfil or Loop; a timer
/// that would write (the posting job, the commerce push) plans the write and stops quietly where the bare job fails.
/// </summary>
public sealed class ShadowTimerTests
{
    private static readonly Dictionary<string, string?> ShadowScheduled = new()
    {
        ["Integration:Mode"] = "Shadow",
        ["Refunds:PostingMode"] = "Scheduled",
        ["CatchUp:InitialLookback"] = "30.00:00:00",
    };

    [Fact]
    public async Task Every_timer_of_both_hosts_runs_in_shadow_mode_without_failing_and_leaves_fulfil_and_loop_unchanged()
    {
        await using var h = await StartAsync();
        var pendingReturn = await AddPendingBonusAsync(h, 5.00m);
        var before = ShadowTestKit.Dump(h.Fulfil.State);
        var loopWrites = h.Loop.CommerceWrites.Count;

        foreach (var timer in EntryPoints.Timers)
        {
            await using var scope = h.Services.CreateAsyncScope();
            // The wrapper both hosts call; a planned write must not surface as a failed run.
            var failure = await Record.ExceptionAsync(() => timer.Run(scope.ServiceProvider, CancellationToken.None));
            Assert.True(failure is null, $"timer {timer.Function} failed in shadow mode: {failure}");
        }

        Assert.Equal(before, ShadowTestKit.Dump(h.Fulfil.State));
        Assert.Equal(loopWrites, h.Loop.CommerceWrites.Count);
        var plan = await ShadowTestKit.PlanAsync(h.Services);
        // The posting timer planned the pending bonus journal (5.00 from the posting) and left it pending for live mode.
        var posting = Assert.Single(plan, w => w.Reference == LoopReferences.Default.Of(pendingReturn, LoopReferences.GiftCardBonus));
        Assert.Equal(("Fulfil", "account.move", "create", (decimal?)5.00m), (posting.Target, posting.Model, posting.Method, posting.Amount));
        Assert.Equal(PostingStatus.Pending, (await h.Postings.GetAsync(pendingReturn, LoopReferences.GiftCardBonus, CancellationToken.None))!.Status);
        // The commerce push planned its first Loop write.
        Assert.Contains(plan, w => w.Target == ShadowWriteHandler.LoopTarget);
    }

    [Fact]
    public async Task Posting_timer_in_shadow_mode_plans_the_pending_posting_and_stops_quietly_where_the_bare_job_fails()
    {
        await using var h = await StartAsync();
        var pendingReturn = await AddPendingBonusAsync(h, 7.25m);

        await using (var scope = h.Services.CreateAsyncScope())
        {
            // Without the wrapper the planned write ends the job's run as an exception (a failed timer run, retried).
            var bare = await Assert.ThrowsAnyAsync<Exception>(() => scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None));
            Assert.NotNull(ShadowRuns.Planned(bare));
        }

        await using (var scope = h.Services.CreateAsyncScope())
        {
            await EntryPoints.Timer("RefundsPosting").Run(scope.ServiceProvider, CancellationToken.None);
        }

        Assert.Empty(h.Journals(pendingReturn, LoopReferences.GiftCardBonus));
        var write = Assert.Single(await ShadowTestKit.PlanAsync(h.Services), w => w.ReturnId == pendingReturn);
        Assert.Equal(7.25m, write.Amount);
    }

    [Fact]
    public async Task Commerce_push_timers_in_shadow_mode_plan_their_first_loop_write_and_stop_quietly_where_the_bare_job_fails()
    {
        await using var h = await StartAsync();
        var loopWrites = h.Loop.CommerceWrites.Count;

        await using (var scope = h.Services.CreateAsyncScope())
        {
            var bare = await Assert.ThrowsAnyAsync<Exception>(() => scope.ServiceProvider.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.FullPass, progress: null, CancellationToken.None));
            Assert.NotNull(ShadowRuns.Planned(bare));
        }

        foreach (var name in new[] { "CommerceSyncFullPass", "CommerceSyncIncremental" })
        {
            await using var scope = h.Services.CreateAsyncScope();
            await EntryPoints.Timer(name).Run(scope.ServiceProvider, CancellationToken.None);
        }

        Assert.Equal(loopWrites, h.Loop.CommerceWrites.Count);
        Assert.Contains(await ShadowTestKit.PlanAsync(h.Services), w => w.Target == ShadowWriteHandler.LoopTarget && w.Method != "GET");
    }

    [Fact]
    public void Every_timer_of_the_entry_point_list_stops_quietly_at_a_planned_write()
    {
        // What a job that planned a write (wrapped, as the handlers wrap it) looks like to the timer wrapper.
        var planned = new ShadowWritePlannedException(new PlannedWrite("Fulfil", "account.move", "create", null, "r1", "LOOP-r1-RF", 1.00m, "[]", default));
        foreach (var timer in EntryPoints.Timers)
        {
            var run = ShadowRuns.StopQuietly(timer.Function, (_, _) => throw new InvalidOperationException("job failed", planned));
            Assert.True(run(new ServiceCollection().BuildServiceProvider(), CancellationToken.None).IsCompletedSuccessfully, timer.Function);
            // Other failures still fail the run (the host retries it): only a planned write is quiet.
            var failing = ShadowRuns.StopQuietly(timer.Function, (_, _) => throw new InvalidOperationException("Fulfil down"));
            Assert.True(failing(new ServiceCollection().BuildServiceProvider(), CancellationToken.None).IsFaulted, timer.Function);
        }
    }

    private static Task<OutcomesHarness> StartAsync() => OutcomesHarness.StartAsync(
        ShadowScheduled,
        commerceSync: true,
        addServices: services =>
        {
            IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(ShadowScheduled).Build();
            services.AddLoopFulfilMessaging();
            services.AddLoopFulfilReconciliation(configuration).AddLoopFulfilCatchUp(configuration).AddLoopFulfilPrivacy(configuration);
        });

    /// <summary>A pending posting that needs no other document first (the bonus journal), as Scheduled mode leaves it.</summary>
    private static async Task<string> AddPendingBonusAsync(OutcomesHarness h, decimal amount)
    {
        // Digits and letters only, as Loop's ids: the plan reads the return from the LOOP-{id}-… reference (a timer has no return scope).
        var returnId = "tmr" + Guid.NewGuid().ToString("N")[..12];
        await h.Postings.AddAsync(PendingPostings.Bonus(returnId, amount, new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero)), CancellationToken.None);
        return returnId;
    }
}
