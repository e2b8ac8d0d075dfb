using System.Globalization;
using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Refunds;

/// <summary>Count and sum of one document kind in one currency within a batch.</summary>
public sealed record PostingTotal(string Kind, string Currency, int Count, decimal Amount);

/// <summary>A posting the batch could not complete (it stays pending; permanent failures also get an exception record).</summary>
public sealed record PostingFailure(string ReturnId, string Reference, string Error, bool Permanent);

/// <summary>What one run of <see cref="ScheduledPostingJob"/> did.</summary>
/// <param name="Totals">Posted documents by kind and currency.</param>
public sealed record PostingBatchSummary(string BatchId, int Pending, int Posted, IReadOnlyList<PostingTotal> Totals, IReadOnlyList<PostingFailure> Failures);

/// <summary>
/// Timer entry point (<c>Refunds:PostingSchedule</c>) for Scheduled mode: posts every pending posting in one batch and
/// returns (and logs) a summary. A posting that fails stays pending for the next run; a permanent failure also raises
/// an exception record. Returns whose documents were posted are enqueued on <c>loop-returns</c> so write-back runs.
/// </summary>
public sealed partial class ScheduledPostingJob
{
    /// <summary>Trigger of the reconciliation message sent after a return's postings were posted.</summary>
    public const string PostedTrigger = "postings.posted";

    private readonly PostingStore postings;
    private readonly RefundPoster poster;
    private readonly ExceptionService exceptions;
    private readonly IMessageSender sender;
    private readonly TimeProvider time;
    private readonly ILogger<ScheduledPostingJob> logger;

    public ScheduledPostingJob(PostingStore postings, RefundPoster poster, ExceptionService exceptions, IMessageSender sender, TimeProvider time, ILogger<ScheduledPostingJob> logger)
    {
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
        var pending = new List<PostingRecord>();
        await foreach (PostingRecord p in postings.PendingAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(p);
        }

        var posted = new List<PostingRecord>();
        var failures = new List<PostingFailure>();
        foreach (PostingRecord p in pending.OrderBy(p => p.CreatedAt).ThenBy(p => p.ReturnId, StringComparer.Ordinal).ThenBy(p => p.Kind, StringComparer.Ordinal))
        {
            try
            {
                await poster.PostAsync(p, cancellationToken).ConfigureAwait(false);
                posted.Add(p);
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
            string key = $"{PostedTrigger}-{batchId}";
            byte[] body = Encoding.UTF8.GetBytes($$"""{"trigger":"{{PostedTrigger}}","return_id":"{{returnId}}","batch":"{{batchId}}"}""");
            var properties = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [WebhookMessagePropertyNames.Topic] = "postings",
                [WebhookMessagePropertyNames.Trigger] = PostedTrigger,
                [WebhookMessagePropertyNames.ReturnId] = returnId,
                [WebhookMessagePropertyNames.DedupeKey] = key,
            };
            await sender.SendAsync(new OutboundMessage(QueueNames.LoopReturns, body, $"{key}-{returnId}", returnId, properties), cancellationToken).ConfigureAwait(false);
        }

        PostingTotal[] totals = [.. posted.GroupBy(p => (p.Kind, p.Currency))
            .OrderBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Currency, StringComparer.Ordinal)
            .Select(g => new PostingTotal(g.Key.Kind, g.Key.Currency, g.Count(), g.Sum(p => p.Amount)))];
        var summary = new PostingBatchSummary(batchId, pending.Count, posted.Count, totals, failures);
        LogSummary(logger, batchId, pending.Count, posted.Count, failures.Count, string.Join("; ", totals.Select(t => $"{t.Kind} {t.Currency}: {t.Count} = {t.Amount.ToString(CultureInfo.InvariantCulture)}")));
        return summary;
    }

    [LoggerMessage(EventId = 4641, Level = LogLevel.Information, Message = "Posting batch {BatchId}: {Pending} pending, {Posted} posted, {Failed} failed; totals {Totals}")]
    private static partial void LogSummary(ILogger logger, string batchId, int pending, int posted, int failed, string totals);
}
