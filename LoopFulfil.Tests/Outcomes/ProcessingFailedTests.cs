using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// <c>return.processing.failed</c> (issue #15 item 7): Loop accepted Process Return and failed in the background. The
/// failure is a CX exception with Loop's reason, the return stays open, and LoopFulfil's Process call does not count
/// as done: only a replay (or a later processed return) carries on. The Loop sandbox sends the webhooks; this test
/// forwards what it sent through the signed ingress.
/// </summary>
public sealed class ProcessingFailedTests
{
    private const string TeeM = "TEE-BLK-M";

    [Fact]
    public async Task Processing_failure_is_a_cx_exception_with_loops_reason_the_return_stays_open_and_a_replay_processes_it_once()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        CaptureLoopWebhooks(h.Loop);
        h.Loop.FailNextProcessing(r.ReturnId, "Gift card provider unavailable.");

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true, "back_to_stock"));
        await h.SendAsync(await NextWebhookAsync(h.Loop, "return.processing.failed", 1));

        var failed = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.LoopProcessingFailed, "cx", ExceptionStatus.Open), (failed.Category, failed.Owner, failed.Status));
        Assert.Contains("Gift card provider unavailable.", failed.Message, StringComparison.Ordinal);
        Assert.Equal("open", h.Loop.GetState(r.ReturnId));
        Assert.True(await h.Ledger.IsDoneAsync(r.ReturnId, ReturnSteps.LoopProcessingFailed, CancellationToken.None));
        Assert.Empty(h.CreditNotes(r.ReturnId));

        // Later events do not ask Loop again on their own: CX fixes the cause first.
        await h.SendAsync(r.Webhook("return.updated", "open", 30));
        Assert.Equal(1, ProcessCalls(h, r.ReturnId));

        // The replay asks Loop to process again; this time Loop processes and closes the return.
        await h.Services.GetRequiredService<ExceptionService>().ReplayAsync(failed.Id, CancellationToken.None);
        await h.DrainAsync();
        Assert.Equal(2, ProcessCalls(h, r.ReturnId));
        await h.SendAsync(await NextWebhookAsync(h.Loop, "return.closed", 1));

        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(("paid", -25.00m), (note.State, note.Number("total_amount")));
        var after = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionStatus.Resolved, after.Status);
        Assert.False(await h.Ledger.IsDoneAsync(r.ReturnId, ReturnSteps.LoopProcessingFailed, CancellationToken.None));
    }

    [Fact]
    public async Task Processing_failure_without_a_reason_or_source_is_routed_not_parked_and_raised_once_per_failure()
    {
        await using var h = await OutcomesHarness.StartAsync();
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        // Loop's documented shape: numeric return_id, state at failure, message and source both nullable.
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["topic"] = "return.processing",
            ["trigger"] = "return.processing.failed",
            ["return_id"] = long.Parse(r.ReturnId, System.Globalization.CultureInfo.InvariantCulture),
            ["return_state"] = "review",
            ["message"] = null,
            ["source"] = null,
        }.ToJsonString());

        await h.SendAsync(body);
        await h.SendAsync(body);

        var failed = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal((ExceptionCategory.LoopProcessingFailed, 1), (failed.Category, failed.Attempts));
        Assert.Contains("(Loop gave no reason)", failed.Message, StringComparison.Ordinal);
        Assert.Contains("return review", failed.Message, StringComparison.Ordinal);
        // Loop was asked by someone else; LoopFulfil does not ask again until the record is replayed.
        Assert.Equal("failed:unknown", (await h.Ledger.GetStepAsync(r.ReturnId, OutcomeSteps.LoopProcess, CancellationToken.None))?.DocumentId);
    }

    private static int ProcessCalls(OutcomesHarness h, string returnId) =>
        h.Loop.Requests.Count(q => q.Path.EndsWith($"/return/{returnId}/process", StringComparison.Ordinal));

    /// <summary>Sends every Loop webhook to a closed port: each delivery is kept by the sandbox for the test to forward.</summary>
    private static void CaptureLoopWebhooks(LoopSandbox loop)
    {
        loop.WebhookTargetUrl = new Uri("http://127.0.0.1:9/");
        loop.ProcessingDelay = TimeSpan.Zero;
    }

    /// <summary>The <paramref name="n"/>th webhook of <paramref name="trigger"/> the sandbox sent (it sends in the background).</summary>
    private static async Task<byte[]> NextWebhookAsync(LoopSandbox loop, string trigger, int n)
    {
        // The timeout only guards against a hang; the wait itself is for the sandbox's queued work to finish.
        await loop.BackgroundWorkDone().Guarded();
        LoopSandboxWebhookDelivery[] sent = [.. loop.WebhookDeliveries.Where(d => d.Trigger == trigger)];
        return sent.Length >= n
            ? sent[n - 1].Body
            : throw new InvalidOperationException($"The Loop sandbox sent no {trigger} webhook.");
    }
}
