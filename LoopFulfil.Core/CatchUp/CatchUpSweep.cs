using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.CatchUp;

/// <summary>What one sweep did.</summary>
/// <param name="From">Start of the range listed (the watermark less the overlap).</param>
/// <param name="To">End of the range listed; the new watermark.</param>
/// <param name="Listed">Returns Loop listed in the range.</param>
/// <param name="Enqueued">Returns sent to <c>loop-returns</c> because the stored snapshot was older (or missing).</param>
public sealed record CatchUpResult(DateTimeOffset From, DateTimeOffset To, int Listed, int Enqueued);

/// <summary>
/// The catch-up sweep (timer on both hosts, <see cref="CatchUpOptions.Schedule"/>): lists the Loop returns updated
/// since the last successful sweep and enqueues each one whose stored snapshot is older than Loop's, so a webhook Loop
/// stopped retrying during an outage is still processed. The watermark advances only after a whole pass succeeded;
/// a failed or missed sweep leaves it, so the next one (also the first after a restart) covers the whole gap.
/// </summary>
/// <remarks>
/// Messages are <see cref="ReturnRepairMessage"/>s with MessageId <c>catchup-{return}-{snapshot time}-{state}</c>:
/// deterministic, so a repeat of the same range (overlap, or a failed pass run again) is dropped by duplicate
/// detection, and the handler is idempotent besides.
/// </remarks>
public sealed partial class CatchUpSweep
{
    private static readonly string[] AllStates = [ReturnStates.Open, ReturnStates.Review, ReturnStates.Closed, ReturnStates.Cancelled, ReturnStates.Expired];

    private readonly ILoopClient _loop;
    private readonly ReturnLedger _ledger;
    private readonly IMessageSender _sender;
    private readonly CatchUpWatermarkStore _watermarks;
    private readonly IOptionsMonitor<CatchUpOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CatchUpSweep> _logger;

    public CatchUpSweep(ILoopClient loop, ReturnLedger ledger, IMessageSender sender, CatchUpWatermarkStore watermarks, IOptionsMonitor<CatchUpOptions> options, TimeProvider time, ILogger<CatchUpSweep> logger)
    {
        _loop = loop;
        _ledger = ledger;
        _sender = sender;
        _watermarks = watermarks;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>One pass. Null when switched off. Failures escape and leave the watermark where it was.</summary>
    public async Task<CatchUpResult?> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options.CurrentValue;
        if (!o.Enabled)
        {
            return null;
        }

        var to = _time.GetUtcNow();
        var watermark = await _watermarks.GetAsync(cancellationToken).ConfigureAwait(false);
        var from = (watermark?.CoveredUntil ?? to - o.InitialLookback) - o.Overlap;
        if (from > to)
        {
            // The clock went back below the watermark: look at the overlap only.
            from = to - o.Overlap;
        }

        LogStarted(_logger, from, to, watermark is null);
        var query = new LoopReturnListQuery { From = from, To = to, Filter = LoopReturnListFilter.UpdatedAt, States = AllStates };
        var listed = 0;
        var enqueued = 0;
        await foreach (var r in _loop.ListReturnsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            listed++;
            if (string.IsNullOrEmpty(r.Id) || WebhookEnvelope.SnapshotTimeOf(r) is not { } loopTime)
            {
                continue;
            }

            var state = ReturnStates.Normalise(r.State);
            var stored = await _ledger.GetSnapshotAsync(r.Id, cancellationToken).ConfigureAwait(false);
            // The ledger's own order (whole seconds, then lifecycle): what it would not apply as newer is not sent.
            if (stored is not null && SnapshotOrder.Compare(stored.EventTime, stored.State, loopTime, state) >= 0)
            {
                continue;
            }

            await _sender.SendAsync(ReturnRepairMessage.BuildAt(r, loopTime, MessageIdFor(r.Id, loopTime, state), new Dictionary<string, string>(StringComparer.Ordinal) { ["catchUp"] = "true" }), cancellationToken).ConfigureAwait(false);
            enqueued++;
            LogEnqueued(_logger, r.Id, loopTime, stored?.EventTime);
        }

        await _watermarks.AdvanceAsync(to, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        LogCompleted(_logger, from, to, listed, enqueued);
        return new CatchUpResult(from, to, listed, enqueued);
    }

    /// <summary>The same return at the same snapshot time and state always gets the same id (at most 128 characters).</summary>
    public static string MessageIdFor(string returnId, DateTimeOffset snapshotTime, string state)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"catchup-{returnId}-{snapshotTime.UtcDateTime:yyyyMMdd'T'HHmmss'.'fffffff'Z'}-{state}");
        return id.Length <= 128 ? id : "catchup-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
    }

    [LoggerMessage(EventId = 5321, Level = LogLevel.Information, Message = "Catch-up sweep of returns updated {From:o} .. {To:o} started (first sweep: {First})")]
    private static partial void LogStarted(ILogger logger, DateTimeOffset from, DateTimeOffset to, bool first);

    [LoggerMessage(EventId = 5322, Level = LogLevel.Warning, Message = "Catch-up: return {ReturnId} changed in Loop at {LoopTime:o} after the stored snapshot ({StoredTime:o}); enqueued")]
    private static partial void LogEnqueued(ILogger logger, string returnId, DateTimeOffset loopTime, DateTimeOffset? storedTime);

    [LoggerMessage(EventId = 5323, Level = LogLevel.Information, Message = "Catch-up sweep {From:o} .. {To:o} done: {Listed} returns listed, {Enqueued} enqueued; watermark advanced")]
    private static partial void LogCompleted(ILogger logger, DateTimeOffset from, DateTimeOffset to, int listed, int enqueued);
}
