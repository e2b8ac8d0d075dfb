using System.Globalization;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// The scheduled posting job and blocked postings, end to end: signed webhooks → handler and refunds stage → postings in
/// Azurite → job → Fulfil sandbox (HTTP).
/// </summary>
public sealed class PostingLeaseAndBlockTests
{
    private const string TeeM = "TEE-BLK-M";

    [Fact]
    public async Task Posting_job_in_realtime_mode_posts_nothing_even_with_a_pending_posting()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var returnId = "job-" + Guid.NewGuid().ToString("N")[..12];
        await h.Postings.AddAsync(Bonus(returnId, 5.00m), CancellationToken.None);

        var summary = await RunJobAsync(h);

        Assert.Equal(0, summary.Posted);
        Assert.Empty(h.Journals(returnId, LoopReferences.GiftCardBonus));
        Assert.Equal(PostingStatus.Pending, (await h.Postings.GetAsync(returnId, LoopReferences.GiftCardBonus, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Posting_job_in_scheduled_mode_posts_a_pending_posting_once_however_often_it_runs()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:PostingMode"] = "Scheduled" });
        var returnId = "job-" + Guid.NewGuid().ToString("N")[..12];
        await h.Postings.AddAsync(Bonus(returnId, 5.00m), CancellationToken.None);

        var first = await RunJobAsync(h);
        var second = await RunJobAsync(h);

        Assert.Equal(1, first.Posted);
        Assert.Equal(0, second.Posted);
        var journal = Assert.Single(h.Journals(returnId, LoopReferences.GiftCardBonus));
        Assert.Equal("posted", journal.State);
        Assert.Equal(PostingStatus.Posted, (await h.Postings.GetAsync(returnId, LoopReferences.GiftCardBonus, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_posting_blocked_by_amount_mismatch_is_not_posted_by_the_timer_and_is_posted_once_after_resolution()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:PostingMode"] = "Scheduled" });
        var fee = 0m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithHandlingFee(fee)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());
        Assert.Equal(25.00m, (await h.Postings.GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None))!.Amount);

        // Loop changes its mind after the refund was worked out: 20.00 refunded, 5.00 kept as a fee.
        fee = 5.00m;
        await h.SendAsync(r.Webhook("return.closed", "closed", 180));
        var mismatch = Assert.Single(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.AmountMismatch);

        var whileBlocked = await RunJobAsync(h);
        await h.DrainAsync();

        Assert.Equal(0, whileBlocked.Posted);
        Assert.Empty(h.CreditNotes(r.ReturnId));
        Assert.Equal(PostingStatus.Blocked, (await h.Postings.GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None))!.Status);

        // Finance resolves the record: the next run hands the return back to the refunds stage, which plans Loop's figures.
        await h.Services.GetRequiredService<ExceptionService>().ResolveAsync(mismatch.Id, "Loop's figures are right", CancellationToken.None);
        var replan = await RunJobAsync(h);
        await h.DrainAsync();
        var afterResolution = await RunJobAsync(h);
        await h.DrainAsync();
        var again = await RunJobAsync(h);

        Assert.Equal(1, replan.Replanned);
        Assert.Equal(0, replan.Posted);
        Assert.Equal(2, afterResolution.Posted);
        Assert.Equal(0, again.Posted);
        // 25.00 returned less the 5.00 fee line, settled by the 20.00 refund payment.
        Assert.Equal(-(25.00m - 5.00m), Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        Assert.Equal(25.00m - 5.00m, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("credit")));
    }

    [Fact]
    public async Task Figure_loop_changes_after_its_document_was_posted_is_refused_with_what_to_book_and_a_release_is_not_raised_again()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var fee = 0m;
        const decimal price = 25.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithHandlingFee(fee)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.SendAsync(r.Closed());
        Assert.Equal(-price, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));

        // After the credit note and refund payment were posted, Loop says 5.00 was kept as a fee.
        fee = 5.00m;
        await h.SendAsync(r.Webhook("return.closed", "closed", 180));
        var refused = await h.ExceptionRecordsAsync();
        Assert.Equal(2, refused.Count);
        Assert.All(refused, e => Assert.Equal((ExceptionCategory.AmountMismatch, "finance"), (e.Category, e.Owner)));
        Assert.All(refused, e => Assert.Contains("does not change or re-post a posted document", e.Message, StringComparison.Ordinal));
        Assert.Contains(refused, e => e.Message.Contains($"LOOP-{r.ReturnId}-CN", StringComparison.Ordinal) && e.Message.Contains((price - fee).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        // Finance books the difference by hand and resolves both; later events neither reopen them nor post again.
        var exceptions = h.Services.GetRequiredService<ExceptionService>();
        foreach (var e in refused)
        {
            await exceptions.ResolveAsync(e.Id, "booked by hand", CancellationToken.None);
        }

        await h.SendAsync(r.Webhook("return.updated", "closed", 240));
        await h.SendAsync(r.Webhook("return.updated", "closed", 300));

        Assert.All(await h.ExceptionRecordsAsync(), e => Assert.Equal(ExceptionStatus.Resolved, e.Status));
        Assert.Equal(-price, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        Assert.Equal(price, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, LoopReferences.RefundPayment)).Id).Sum(l => l.Number("credit")));
    }

    private static PostingRecord Bonus(string returnId, decimal amount) => PendingPostings.Bonus(returnId, amount, new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    private static async Task<PostingBatchSummary> RunJobAsync(OutcomesHarness h)
    {
        using var scope = h.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
    }
}
