using System.Globalization;
using System.Text;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
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
/// posts, and a timer posting too would race it): posts every pending posting in one batch, returns in parallel
/// (<c>Refunds:PostingParallelism</c>), each posting under its claim (a
/// posting another worker holds is left for the next run), and returns (and logs) a summary. A posting that fails stays
/// pending for the next run; a permanent failure also raises an exception record, and an AmountMismatch blocks the
/// posting until the record is resolved. A blocked posting whose record was resolved is handed back to the refunds
/// stage (a <c>postings.replan</c> message) to be planned again from Loop's figures. Returns whose documents were
/// posted are enqueued on <c>loop-returns</c> (<c>postings.posted</c>) as soon as their own postings are done, so
/// settlement and write-back run; the claim marks that message owed, so one a killed run never sent is sent by the next.
/// </summary>
public sealed partial class ScheduledPostingJob
{
    /// <summary>Trigger of the reconciliation message sent after a return's postings were posted.</summary>
    public const string PostedTrigger = "postings.posted";

    /// <summary>Trigger of the message that has the refunds stage plan a return's blocked postings again.</summary>
    public const string ReplanTrigger = "postings.replan";

    private readonly PostingStore _postings;
    private readonly RefundPoster _poster;
    private readonly ExceptionService _exceptions;
    private readonly IMessageSender _sender;
    private readonly IOptionsMonitor<RefundsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ScheduledPostingJob> _logger;

    public ScheduledPostingJob(PostingStore postings, RefundPoster poster, ExceptionService exceptions, IMessageSender sender, IOptionsMonitor<RefundsOptions> options, TimeProvider time, ILogger<ScheduledPostingJob> logger)
    {
        _options = options;
        _postings = postings;
        _poster = poster;
        _exceptions = exceptions;
        _sender = sender;
        _time = time;
        _logger = logger;
    }

    public async Task<PostingBatchSummary> RunAsync(CancellationToken cancellationToken)
    {
        var batchId = _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        if (_options.CurrentValue.PostingMode != PostingMode.Scheduled)
        {
            LogNotScheduled(_logger, batchId);
            return new PostingBatchSummary(batchId, 0, 0, [], []) { Ran = false };
        }

        var pending = new List<PostingRecord>();
        await foreach (var p in _postings.PendingAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(p);
        }

        // Announcements a dead worker (or a failed send) left owed: the later stages of those returns run now, also for
        // a return with postings still pending, so one that keeps failing (a permanent failure stays pending) does not
        // hold back the settlement and write-back of what is posted. A failure here leaves it owed for the next run.
        var sweepFailures = new List<PostingFailure>();
        foreach (var returnId in await _postings.AnnounceDueAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await AnnounceAsync(returnId, batchId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!EndsRun(ex, cancellationToken))
            {
                sweepFailures.Add(Failed(returnId, PostedTrigger, ex, batchId));
            }
        }

        // Returns in parallel (bounded), a return's postings in planned order: they settle one another, and an
        // AmountMismatch on one holds the rest back. Each posting is under its own claim, so parallel is safe.
        PostingRecord[][] returns = [.. pending.GroupBy(p => p.ReturnId, StringComparer.Ordinal)
            .Select(g => g.OrderBy(p => p.CreatedAt).ThenBy(p => p.Kind, StringComparer.Ordinal).ToArray())
            .OrderBy(g => g[0].CreatedAt).ThenBy(g => g[0].ReturnId, StringComparer.Ordinal)];
        var outcomes = new ReturnBatch[returns.Length];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.CurrentValue.PostingParallelism), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, returns.Length), parallel, async (i, ct) => outcomes[i] = await PostReturnAsync(returns[i], batchId, ct).ConfigureAwait(false)).ConfigureAwait(false);

        PostingRecord[] posted = [.. outcomes.SelectMany(o => o.Posted)];
        PostingFailure[] failures = [.. sweepFailures, .. outcomes.SelectMany(o => o.Failures)];
        var leased = outcomes.Sum(o => o.Leased);
        var replanned = await ReplanResolvedAsync(batchId, cancellationToken).ConfigureAwait(false);
        PostingTotal[] totals = [.. posted.GroupBy(p => (p.Kind, p.Currency))
            .OrderBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Currency, StringComparer.Ordinal)
            .Select(g => new PostingTotal(g.Key.Kind, g.Key.Currency, g.Count(), g.Sum(p => p.Amount)))];
        var summary = new PostingBatchSummary(batchId, pending.Count, posted.Length, totals, failures) { Leased = leased, Replanned = replanned };
        LogSummary(_logger, batchId, pending.Count, posted.Length, failures.Length, string.Join("; ", totals.Select(t => $"{t.Kind} {t.Currency}: {t.Count} = {t.Amount.ToString(CultureInfo.InvariantCulture)}")));
        return summary;
    }

    /// <summary>What the batch did for one return.</summary>
    private sealed record ReturnBatch(IReadOnlyList<PostingRecord> Posted, IReadOnlyList<PostingFailure> Failures, int Leased);

    /// <summary>
    /// Posts one return's pending postings in order, then sends its <c>postings.posted</c> message at once (not at the
    /// end of the batch), so its settlement and write-back need not wait for the other returns. Any failure but the
    /// host's shutdown (or a planned shadow write) ends only this return's turn (a parallel loop would otherwise cancel
    /// every return in flight and skip the rest of the run); what is posted stays posted, the rest is tried again on the
    /// next run.
    /// </summary>
    private async Task<ReturnBatch> PostReturnAsync(PostingRecord[] group, string batchId, CancellationToken cancellationToken)
    {
        var posted = new List<PostingRecord>();
        var failures = new List<PostingFailure>();
        var leased = 0;
        var returnId = group[0].ReturnId;
        try
        {
            foreach (var p in group)
            {
                if (!await PostOneAsync(p, group, posted, failures, cancellationToken).ConfigureAwait(false))
                {
                    leased++;
                }
            }

            // Whatever this run posted: a posting announced late (e.g. by an overlapping run) is owed all the same.
            await AnnounceAsync(returnId, batchId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!EndsRun(ex, cancellationToken))
        {
            // E.g. the exception record or the message could not be written, or Fulfil answered something unreadable:
            // a posting marked with its announcement due is announced by a later run.
            failures.Add(Failed(returnId, string.Join(", ", group.Select(p => p.Reference)), ex, batchId));
        }

        return new ReturnBatch(posted, failures, leased);
    }

    /// <summary>Posts one posting; false when another worker holds it (left for the next run, not a failure).</summary>
    private async Task<bool> PostOneAsync(PostingRecord p, PostingRecord[] group, List<PostingRecord> posted, List<PostingFailure> failures, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await _poster.PostAsync(p, announce: true, cancellationToken).ConfigureAwait(false);
            if (outcome.PostedNow)
            {
                posted.Add(p);
            }
        }
        catch (StepLeaseHeldException)
        {
            // A handler or another run is posting it; not a failure.
            return false;
        }
        catch (ReturnStageException ex) when (ex.Category == ExceptionCategory.AmountMismatch)
        {
            failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: true));
            var record = await _exceptions.RaiseAsync(new ExceptionRaise(ex.Category, p.ReturnId, $"Scheduled posting {p.Reference}: {ex.Message}") { DetailKey = "posting:" + p.Kind, Source = "scheduled-posting" }, cancellationToken).ConfigureAwait(false);
            await _postings.MarkBlockedAsync(p.ReturnId, p.Kind, record.Id, ex.Message, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            foreach (var other in group.Where(o => o.Kind != p.Kind))
            {
                // The return's documents settle one another (as in the refunds stage): a refund payment or store
                // credit is never posted against a disputed (e.g. already paid) credit note. Posted ones stay.
                await _postings.MarkBlockedAsync(other.ReturnId, other.Kind, record.Id, ex.Message, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTransient(ex, cancellationToken))
        {
            failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: false));
            await _postings.MarkFailedAsync(p, ex.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            failures.Add(new PostingFailure(p.ReturnId, p.Reference, ex.Message, Permanent: true));
            await _postings.MarkFailedAsync(p, ex.Message, cancellationToken).ConfigureAwait(false);
            var category = ex is ReturnStageException rse ? rse.Category : ExceptionCategory.FulfilRejected;
            await _exceptions.RaiseAsync(new ExceptionRaise(category, p.ReturnId, $"Scheduled posting {p.Reference}: {ex.Message}") { DetailKey = "posting:" + p.Kind, Source = "scheduled-posting" }, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) =>
        ex is TransientIntegrationException or HttpRequestException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>
    /// Only the host's shutdown and a write shadow mode planned instead of sending (the run stops there, quietly, see
    /// <see cref="ShadowRuns"/>) end the run; any other failure is one return's.
    /// </summary>
    private static bool EndsRun(Exception ex, CancellationToken cancellationToken) =>
        (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) || ShadowRuns.Planned(ex) is not null;

    /// <summary>Logs a return's failure (transient: a warning; anything else: an error) and says what failed.</summary>
    private PostingFailure Failed(string returnId, string what, Exception ex, string batchId)
    {
        var transient = IsTransient(ex, CancellationToken.None);
        if (transient)
        {
            LogReturnFailed(_logger, ex, batchId, returnId);
        }
        else
        {
            LogReturnError(_logger, ex, batchId, returnId, ex.GetType().Name);
        }

        // Not a permanent failure of the posting (no record is raised): it stays pending, or owed, for the next run.
        return new PostingFailure(returnId, what, ex.Message, Permanent: false);
    }

    /// <summary>
    /// Sends the return's <c>postings.posted</c> message (its settlement and write-back run) when any posted posting of
    /// it is owed one, then records those postings (read before the send) announced.
    /// </summary>
    private async Task AnnounceAsync(string returnId, string batchId, CancellationToken cancellationToken)
    {
        var owed = await _postings.OwedAnnouncementAsync(returnId, cancellationToken).ConfigureAwait(false);
        if (!owed.IsOwed)
        {
            return;
        }

        // The postings covered go into the id: a second message for the same return in one run (owed rows at the
        // start, then rows posted in its turn) is not dropped as a duplicate of the first.
        await SendAsync(PostedTrigger, returnId, batchId, cancellationToken, covers: string.Join('+', owed.Kinds)).ConfigureAwait(false);
        await _postings.MarkAnnouncedAsync(owed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocked postings whose record is no longer open go back to the refunds stage, once per return per run.</summary>
    private async Task<int> ReplanResolvedAsync(string batchId, CancellationToken cancellationToken)
    {
        var blocked = new List<PostingRecord>();
        await foreach (var p in _postings.BlockedAsync(cancellationToken).ConfigureAwait(false))
        {
            blocked.Add(p);
        }

        var returns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in blocked.Where(p => p.BlockedBy is not null).OrderBy(p => p.ReturnId, StringComparer.Ordinal))
        {
            var record = await _exceptions.GetAsync(p.BlockedBy!, cancellationToken).ConfigureAwait(false);
            if ((record is null || record.Status != ExceptionStatus.Open) && returns.Add(p.ReturnId))
            {
                await SendAsync(ReplanTrigger, p.ReturnId, batchId, cancellationToken).ConfigureAwait(false);
            }
        }

        return returns.Count;
    }

    private Task SendAsync(string trigger, string returnId, string batchId, CancellationToken cancellationToken, string? covers = null)
    {
        var key = covers is null ? $"{trigger}-{batchId}" : $"{trigger}-{batchId}-{covers}";
        var body = Encoding.UTF8.GetBytes($$"""{"trigger":"{{trigger}}","return_id":"{{returnId}}","batch":"{{batchId}}"}""");
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [WebhookMessagePropertyNames.Topic] = "postings",
            [WebhookMessagePropertyNames.Trigger] = trigger,
            [WebhookMessagePropertyNames.ReturnId] = returnId,
            [WebhookMessagePropertyNames.DedupeKey] = key,
        };
        return _sender.SendAsync(IntegrationMessages.ToLoopReturns(trigger, returnId, body, $"{key}-{returnId}", eventTime: null, properties), cancellationToken);
    }

    [LoggerMessage(EventId = 4642, Level = LogLevel.Information, Message = "Posting batch {BatchId}: Refunds:PostingMode is not Scheduled; the refunds stage posts, the job does nothing")]
    private static partial void LogNotScheduled(ILogger logger, string batchId);

    [LoggerMessage(EventId = 4643, Level = LogLevel.Warning, Message = "Posting batch {BatchId}: return {ReturnId} stopped after a transient failure; the next run goes on")]
    private static partial void LogReturnFailed(ILogger logger, Exception exception, string batchId, string returnId);

    [LoggerMessage(EventId = 4644, Level = LogLevel.Error, Message = "Posting batch {BatchId}: return {ReturnId} stopped after an unexpected {ErrorType}; the other returns go on and the next run tries it again")]
    private static partial void LogReturnError(ILogger logger, Exception exception, string batchId, string returnId, string errorType);

    [LoggerMessage(EventId = 4641, Level = LogLevel.Information, Message = "Posting batch {BatchId}: {Pending} pending, {Posted} posted, {Failed} failed; totals {Totals}")]
    private static partial void LogSummary(ILogger logger, string batchId, int pending, int posted, int failed, string totals);
}
