using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Inspection;

/// <summary>Inspection verdicts that cannot be accepted (the HTTP route answers 400 with the message).</summary>
public sealed class InvalidInspectionException : PermanentIntegrationException
{
    public InvalidInspectionException() : this("The inspection is invalid.") { }

    public InvalidInspectionException(string message) : base(message) { }

    public InvalidInspectionException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Entry point of <c>POST /api/returns/{id}/inspection</c> (Functions and <c>loopfulfil serve</c>): stores the
/// verdicts in the return's ledger and enqueues the return for reconciliation on <c>loop-returns</c>, where the
/// receipt, restock and Loop process/flag steps act on them.
/// </summary>
public sealed partial class InspectionService
{
    /// <summary>Ledger event trigger (and queue message trigger) of an inspection submission.</summary>
    public const string Trigger = "inspection.submitted";

    private const int MaxLines = 500;
    private readonly ReturnLedger _ledger;
    private readonly IMessageSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger<InspectionService> _logger;

    public InspectionService(ReturnLedger ledger, IMessageSender sender, TimeProvider time, ILogger<InspectionService> logger)
    {
        _ledger = ledger;
        _sender = sender;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Stores the verdicts and enqueues the return (SessionId = return id; MessageId from the content, so a repeated
    /// submission is one message to Service Bus duplicate detection and one ledger row). Later submissions for the
    /// same line override earlier ones.
    /// </summary>
    /// <exception cref="InvalidInspectionException">No lines, a line without an id, or too many lines.</exception>
    public async Task<InspectionReceipt> SubmitAsync(string returnId, IReadOnlyList<LineInspection> lines, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(returnId))
        {
            throw new InvalidInspectionException("The return id is required.");
        }

        if (lines is null || lines.Count == 0)
        {
            throw new InvalidInspectionException("An inspection needs at least one line.");
        }

        if (lines.Count > MaxLines)
        {
            throw new InvalidInspectionException($"An inspection takes at most {MaxLines} lines.");
        }

        if (lines.Any(l => l is null || string.IsNullOrWhiteSpace(l.LineItemId)))
        {
            throw new InvalidInspectionException("Every inspection line needs a line_item_id.");
        }

        returnId = returnId.Trim();
        LineInspection[] normalised = [.. lines.Select(l => l with { LineItemId = l.LineItemId.Trim(), Disposition = string.IsNullOrWhiteSpace(l.Disposition) ? null : l.Disposition.Trim() })];
        var contentKey = ContentKey(returnId, normalised);
        var submission = new InspectionSubmission(Trigger, returnId, _time.GetUtcNow(), normalised);
        var body = JsonSerializer.SerializeToUtf8Bytes(submission);

        var isNew = await _ledger.RecordEventAsync(returnId, Trigger, contentKey, submission.SubmittedAt, body, cancellationToken).ConfigureAwait(false);
        var messageId = $"inspection-{returnId}-{contentKey}";
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { [WebhookMessagePropertyNames.DedupeKey] = contentKey };
        // Enqueued even when already stored: the first attempt may have stored it and then failed to enqueue.
        // Its event time is the body's submitted_at, the time the envelope reader would find in it.
        await _sender.SendAsync(IntegrationMessages.ToLoopReturns(Trigger, returnId, body, messageId, submission.SubmittedAt, properties), cancellationToken).ConfigureAwait(false);
        LogSubmitted(_logger, returnId, normalised.Length, normalised.Count(l => !l.Passed), isNew);
        return new InspectionReceipt(returnId, messageId, isNew, normalised.Length);
    }

    /// <summary>Every stored submission of the return, oldest first.</summary>
    public static async Task<IReadOnlyList<InspectionSubmission>> ReadAsync(ReturnLedger ledger, string returnId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var events = await ledger.GetEventsAsync(returnId, Trigger, cancellationToken).ConfigureAwait(false);
        var submissions = new List<InspectionSubmission>(events.Count);
        foreach (var e in events)
        {
            var s = JsonSerializer.Deserialize<InspectionSubmission>(e.Body);
            if (s is not null)
            {
                submissions.Add(s);
            }
        }

        return [.. submissions.OrderBy(s => s.SubmittedAt)];
    }

    /// <summary>SHA-256 over the verdicts (not the time): equal content, equal key.</summary>
    private static string ContentKey(string returnId, IReadOnlyList<LineInspection> lines)
    {
        var text = new StringBuilder(returnId);
        foreach (var l in lines)
        {
            text.Append('\n').Append(l.LineItemId).Append('|').Append(l.Passed ? '1' : '0').Append('|').Append(l.Disposition).Append('|').Append(l.Note);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    [LoggerMessage(EventId = 4601, Level = LogLevel.Information, Message = "Return {ReturnId}: inspection of {Lines} lines ({Failed} failed) stored (new: {IsNew}) and enqueued")]
    private static partial void LogSubmitted(ILogger logger, string returnId, int lines, int failed, bool isNew);
}
