using System.Globalization;
using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Refunds;

/// <summary>Count and sum of one document kind in one currency within a batch.</summary>
public sealed record PostingTotal(string Kind, string Currency, int Count, decimal Amount);

/// <summary>A posting the batch could not complete (it stays pending; permanent failures also get an exception record).</summary>
public sealed record PostingFailure(string ReturnId, string Reference, string Error, bool Permanent);

/// <summary>What one run of <see cref="ScheduledPostingJob"/> did.</summary>
/// <param name="Totals">Posted documents by kind and currency.</param>
public sealed record PostingBatchSummary(string BatchId, int Pending, int Posted, IReadOnlyList<PostingTotal> Totals, IReadOnlyList<PostingFailure> Failures)
{
    /// <summary>False in Realtime mode: the job did nothing (the refunds stage posts).</summary>
    public bool Ran { get; init; } = true;

    /// <summary>Postings left alone because another worker held them.</summary>
    public int Leased { get; init; }

    /// <summary>Returns sent back to the refunds stage because the record blocking a posting was resolved.</summary>
    public int Replanned { get; init; }
}

/// <summary>
/// Timer entry point (<c>Refunds:PostingSchedule</c>), active only in Scheduled mode (in Realtime the refunds stage
/// posts, and a timer posting too would race it): posts every pending posting in one batch, each under its claim (a
/// posting another worker holds is left for the next run), and returns (and logs) a summary. A posting that fails stays
/// pending for the next run; a permanent failure also raises an exception record, and an AmountMismatch blocks the
/// posting until the record is resolved. A blocked posting whose record was resolved is handed back to the refunds
/// stage (a <c>postings.replan</c> message) to be planned again from Loop's figures. Returns whose documents were
/// posted are enqueued on <c>loop-returns</c> so write-back runs.
/// </summary>
public sealed partial class ScheduledPostingJob
{
    /// <summary>Trigger of the reconciliation message sent after a return's postings were posted.</summary>
    public const string PostedTrigger = "postings.posted";

    /// <summary>Trigger of the message that has the refunds stage plan a return's blocked postings again.</summary>
    public const string ReplanTrigger = "postings.replan";

    private readonly PostingStore postings;
    private readonly RefundPoster poster;
    private readonly ExceptionService exceptions;
    private readonly IMessageSender sender;
    private readonly IOptionsMonitor<RefundsOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<ScheduledPostingJob> logger;

    public ScheduledPostingJob(PostingStore postings, RefundPoster poster, ExceptionService exceptions, IMessageSender sender, IOptionsMonitor<RefundsOptions> options, TimeProvider time, ILogger<ScheduledPostingJob> logger)
    {
        this.options = options;
        this.postings = postings;
        this.poster = poster;
        this.exceptions = exceptions;
        this.sender = sender;
        this.time = time;
        this.logger = logger;
    }

    public async Task<PostingBatchSummary> RunAsync(CancellationToken cancellationToken)
    {
        string batchId = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        if (options.CurrentValue.PostingMode != PostingMode.Scheduled)
        {
            LogNotScheduled(logger, batchId);
            return new PostingBatchSummary(batchId, 0, 0, [], []) { Ran = false };
        }

        var pending = new List<PostingRecord>();
        await foreach (PostingRecord p in postings.PendingAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(p);
        }

        var posted = new List<PostingRecord>();
        var failures = new List<PostingFailure>();
        int leased = 0;
        foreach (PostingRecord p in pending.OrderBy(p => p.CreatedAt).ThenBy(p => p.ReturnId, StringComparer.Ordinal).ThenBy(p => p.Kind, StringComparer.Ordinal))
        {
            try
            {
                PostingOutcome outcome = await poster.PostAsync(p, cancellationToken).ConfigureAwait(false);
                if (outcome.PostedNow)
                {
                    posted.Add(p);
                }
            }
            catch (StepLeaseHeldException)
            {
                // A handler or another run is posting it; not a failure.
                leased++;
            }
            catch (ReturnStageException ex) when (ex.Category == ExceptionCategory.AmountMismatch)
            {
                failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: true));
                ExceptionRecord record = await exceptions.RaiseAsync(new ExceptionRaise(ex.Category, p.ReturnId, $"Scheduled posting {p.Reference}: {ex.Message}") { DetailKey = "posting:" + p.Kind, Source = "scheduled-posting" }, cancellationToken).ConfigureAwait(false);
                await postings.MarkBlockedAsync(p.ReturnId, p.Kind, record.Id, ex.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                foreach (PostingRecord other in pending.Where(o => string.Equals(o.ReturnId, p.ReturnId, StringComparison.Ordinal) && o.Kind != p.Kind))
                {
                    // The return's documents settle one another (as in the refunds stage): a refund payment or store
                    // credit is never posted against a disputed (e.g. already paid) credit note. Posted ones stay.
                    await postings.MarkBlockedAsync(other.ReturnId, other.Kind, record.Id, ex.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is TransientIntegrationException or HttpRequestException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: false));
                await postings.MarkFailedAsync(p, ex.Message, cancellationToken).ConfigureAwait(false);
            }
            catch (PermanentIntegrationException ex)
            {
                failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: true));
                await postings.MarkFailedAsync(p, ex.Message, cancellationToken).ConfigureAwait(false);
                ExceptionCategory category = ex is ReturnStageException rse ? rse.Category : ExceptionCategory.FulfilRejected;
                await exceptions.RaiseAsync(new ExceptionRaise(category, p.ReturnId, $"Scheduled posting {p.Reference}: {ex.Message}") { DetailKey = "posting:" + p.Kind, Source = "scheduled-posting" }, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (string returnId in posted.Select(p => p.ReturnId).Distinct(StringComparer.Ordinal))
        {
            await SendAsync(PostedTrigger, returnId, batchId, cancellationToken).ConfigureAwait(false);
        }

        int replanned = await ReplanResolvedAsync(batchId, cancellationToken).ConfigureAwait(false);
        PostingTotal[] totals = [.. posted.GroupBy(p => (p.Kind, p.Currency))
            .OrderBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Currency, StringComparer.Ordinal)
            .Select(g => new PostingTotal(g.Key.Kind, g.Key.Currency, g.Count(), g.Sum(p => p.Amount)))];
        var summary = new PostingBatchSummary(batchId, pending.Count, posted.Count, totals, failures) { Leased = leased, Replanned = replanned };
        LogSummary(logger, batchId, pending.Count, posted.Count, failures.Count, string.Join("; ", totals.Select(t => $"{t.Kind} {t.Currency}: {t.Count} = {t.Amount.ToString(CultureInfo.InvariantCulture)}")));
        return summary;
    }

    /// <summary>Blocked postings whose record is no longer open go back to the refunds stage, once per return per run.</summary>
    private async Task<int> ReplanResolvedAsync(string batchId, CancellationToken cancellationToken)
    {
        var blocked = new List<PostingRecord>();
        await foreach (PostingRecord p in postings.BlockedAsync(cancellationToken).ConfigureAwait(false))
        {
            blocked.Add(p);
        }

        var returns = new HashSet<string>(StringComparer.Ordinal);
        foreach (PostingRecord p in blocked.Where(p => p.BlockedBy is not null).OrderBy(p => p.ReturnId, StringComparer.Ordinal))
        {
            ExceptionRecord? record = await exceptions.GetAsync(p.BlockedBy!, cancellationToken).ConfigureAwait(false);
            if ((record is null || record.Status != ExceptionStatus.Open) && returns.Add(p.ReturnId))
            {
                await SendAsync(ReplanTrigger, p.ReturnId, batchId, cancellationToken).ConfigureAwait(false);
            }
        }

        return returns.Count;
    }

    private Task SendAsync(string trigger, string returnId, string batchId, CancellationToken cancellationToken)
    {
        string key = $"{trigger}-{batchId}";
        byte[] body = Encoding.UTF8.GetBytes($$"""{"trigger":"{{trigger}}","return_id":"{{returnId}}","batch":"{{batchId}}"}""");
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [WebhookMessagePropertyNames.Topic] = "postings",
            [WebhookMessagePropertyNames.Trigger] = trigger,
            [WebhookMessagePropertyNames.ReturnId] = returnId,
            [WebhookMessagePropertyNames.DedupeKey] = key,
        };
        return sender.SendAsync(new OutboundMessage(QueueNames.LoopReturns, body, $"{key}-{returnId}", returnId, properties), cancellationToken);
    }

    [LoggerMessage(EventId = 4642, Level = LogLevel.Information, Message = "Posting batch {BatchId}: Refunds:PostingMode is not Scheduled; the refunds stage posts, the job does nothing")]
    private static partial void LogNotScheduled(ILogger logger, string batchId);

    [LoggerMessage(EventId = 4641, Level = LogLevel.Information, Message = "Posting batch {BatchId}: {Pending} pending, {Posted} posted, {Failed} failed; totals {Totals}")]
    private static partial void LogSummary(ILogger logger, string batchId, int pending, int posted, int failed, string totals);
}
