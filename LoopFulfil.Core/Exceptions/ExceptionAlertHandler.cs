using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Exceptions;

/// <summary>An alert from the <c>exceptions</c> queue, as <see cref="ExceptionService"/> publishes it (no raw event).</summary>
/// <param name="Id">The exception record id (<c>{Category}-{32 hex}</c>).</param>
/// <param name="Category">What went wrong.</param>
/// <param name="Owner">The owning team.</param>
/// <param name="ReturnId">The Loop return id, when known.</param>
/// <param name="Message">What happened (ids and codes only).</param>
/// <param name="Source">Where it was raised (e.g. <c>webhook:return.created</c>, <c>returns-handler:Authorisation</c>).</param>
/// <param name="Attempts">How many times the problem has been raised; 1 the first time.</param>
/// <param name="FlagReturnInLoop">Whether the raise asked for the return to be flagged in Loop.</param>
public sealed record ExceptionAlert(string Id, ExceptionCategory Category, string Owner, string? ReturnId, string Message, string? Source, int Attempts, bool FlagReturnInLoop);

/// <summary>What <see cref="ExceptionAlertHandler.HandleAsync"/> did with one alert.</summary>
public enum ExceptionAlertOutcome
{
    /// <summary>Logged for the alert rules; no Loop action asked for (flagging off, no return id, or a repeat).</summary>
    Logged,

    /// <summary>Logged; the raiser flags in Loop itself (the returns handler), so nothing more was done here.</summary>
    FlaggedByRaiser,

    /// <summary>Logged; the return already carries this exception's note (an earlier delivery of this alert flagged it).</summary>
    AlreadyFlagged,

    /// <summary>Logged, the return flagged in Loop and a note added saying why.</summary>
    Flagged,

    /// <summary>The body is not an alert; logged as an error and completed (retrying cannot fix it).</summary>
    Unreadable,
}

/// <summary>
/// The consumer of the <c>exceptions</c> queue. Logs every alert once with a structured <c>ExceptionCategory</c>
/// property (the alert rules in infra/modules/alerts.bicep count these), and, when
/// <see cref="ExceptionOptions.FlagReturnInLoop"/> is on, flags the return in Loop and adds a note saying why for
/// records whose raiser does not already do so.
/// </summary>
/// <remarks>
/// The returns handler flags in-line (<see cref="ReturnExceptionReporter"/>) because its pipeline must stop on the
/// spot; doing it again here would race it and add a second note. Everything else (parked webhooks, and jobs that
/// raise records) is flagged here, where a transient Loop failure escapes and the queue redelivers the alert. Before
/// flagging, the return's notes are read: a note naming this record means an earlier delivery got that far already.
/// </remarks>
public sealed partial class ExceptionAlertHandler
{
    /// <summary>
    /// Sources that flag in Loop themselves: the returns handler raises with <c>returns-handler</c> or
    /// <c>returns-handler:{stage}</c> and flags through <see cref="ReturnExceptionReporter"/>.
    /// </summary>
    public const string InlineFlaggingSourcePrefix = "returns-handler";

    private readonly ILoopClient _loop;
    private readonly IOptionsMonitor<ExceptionOptions> _options;
    private readonly ILogger<ExceptionAlertHandler> _logger;

    public ExceptionAlertHandler(ILoopClient loop, IOptionsMonitor<ExceptionOptions> options, ILogger<ExceptionAlertHandler> logger)
    {
        _loop = loop;
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// Handles one alert. Returns normally when done (including when Loop refused the flag: the record stands and a
    /// person owns it); throws transient failures so the host redelivers the alert.
    /// </summary>
    public async Task<ExceptionAlertOutcome> HandleAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var alert = TryRead(message.Body.Span);
        if (alert is null)
        {
            LogUnreadable(_logger, message.MessageId);
            return ExceptionAlertOutcome.Unreadable;
        }

        // One trace per raise: a redelivery (after a Loop hiccup below) must not count twice towards the alert rules.
        if (message.DeliveryCount <= 1)
        {
            LogAlert(_logger, alert.Category, alert.Id, alert.Owner, alert.ReturnId, alert.Attempts, alert.Source);
        }

        if (!alert.FlagReturnInLoop || !_options.CurrentValue.FlagReturnInLoop || alert.ReturnId is not { } returnId || alert.Attempts > 1)
        {
            // A repeat of the same problem already flagged the return the first time.
            return ExceptionAlertOutcome.Logged;
        }

        if (alert.Source is { } source && source.StartsWith(InlineFlaggingSourcePrefix, StringComparison.Ordinal))
        {
            return ExceptionAlertOutcome.FlaggedByRaiser;
        }

        try
        {
            var notes = await _loop.GetReturnNotesAsync(returnId, cancellationToken).ConfigureAwait(false);
            if (notes.Any(n => n.Content?.Contains(alert.Id, StringComparison.Ordinal) == true))
            {
                return ExceptionAlertOutcome.AlreadyFlagged;
            }
        }
        catch (LoopNotFoundException)
        {
            // A parked webhook's best-effort return id that Loop does not know: nothing to flag.
            LogNoSuchReturn(_logger, alert.Id, returnId);
            return ExceptionAlertOutcome.Logged;
        }

        var shadow = false;
        try
        {
            await _loop.FlagReturnAsync(returnId, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            // Loop refuses to flag some states (closed, already flagged); the note still tells the team why.
            LogFlagRefused(_logger, ex, returnId, alert.Id);
        }
        catch (ShadowWritePlannedException)
        {
            // Shadow mode recorded the flag instead of sending it (docs/go-live.md); the note is planned the same way.
            shadow = true;
        }

        try
        {
            await _loop.AddReturnNoteAsync(returnId, NoteFor(alert), cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            LogNoteRefused(_logger, ex, returnId, alert.Id);
        }
        catch (ShadowWritePlannedException)
        {
            shadow = true;
        }

        return shadow ? ExceptionAlertOutcome.Logged : ExceptionAlertOutcome.Flagged;
    }

    /// <summary>The same note the returns handler writes, so people see one format whichever path flagged.</summary>
    internal static string NoteFor(ExceptionAlert alert) => ReturnExceptionReporter.NoteFor(new ExceptionRecord
    {
        Id = alert.Id,
        Category = alert.Category,
        Owner = alert.Owner,
        ReturnId = alert.ReturnId,
        Message = alert.Message,
        Source = alert.Source,
        Status = ExceptionStatus.Open,
        FirstSeen = default,
        LastSeen = default,
        Attempts = alert.Attempts,
    });

    /// <summary>Reads an alert body; null when it is not one (not JSON, or no id/category/owner).</summary>
    public static ExceptionAlert? TryRead(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || Text(root, "id") is not { } id
                || Text(root, "owner") is not { } owner
                || !Enum.TryParse(Text(root, "category"), ignoreCase: false, out ExceptionCategory category)
                || !Enum.IsDefined(category))
            {
                return null;
            }

            var attempts = root.TryGetProperty("attempts", out var a) && a.ValueKind == JsonValueKind.Number && a.TryGetInt32(out var n) ? n : 1;
            var flag = root.TryGetProperty("flagReturnInLoop", out var f) && f.ValueKind == JsonValueKind.True;
            return new ExceptionAlert(id, category, owner, Text(root, "returnId"), Text(root, "message") ?? string.Empty, Text(root, "source"), attempts, flag);
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()) ? v.GetString() : null;
    }

    // The placeholder names are the custom dimensions the alert queries read: keep ExceptionCategory as it is.
    [LoggerMessage(EventId = 4501, Level = LogLevel.Warning, Message = "Exception {ExceptionId} recorded: {ExceptionCategory}, owner {Owner}, return {ReturnId}, attempt {Attempts}, source {Source}")]
    private static partial void LogAlert(ILogger logger, ExceptionCategory exceptionCategory, string exceptionId, string owner, string? returnId, int attempts, string? source);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Error, Message = "Message {MessageId} on the exceptions queue is not an exception alert; completed without action")]
    private static partial void LogUnreadable(ILogger logger, string messageId);

    [LoggerMessage(EventId = 4503, Level = LogLevel.Warning, Message = "Loop refused to flag return {ReturnId} for exception {ExceptionId}; adding the note anyway")]
    private static partial void LogFlagRefused(ILogger logger, Exception exception, string returnId, string exceptionId);

    [LoggerMessage(EventId = 4504, Level = LogLevel.Warning, Message = "Loop refused the note on return {ReturnId} for exception {ExceptionId}; the exception record stands")]
    private static partial void LogNoteRefused(ILogger logger, Exception exception, string returnId, string exceptionId);

    [LoggerMessage(EventId = 4505, Level = LogLevel.Information, Message = "Exception {ExceptionId} names return {ReturnId}, which Loop does not know; nothing to flag")]
    private static partial void LogNoSuchReturn(ILogger logger, string exceptionId, string returnId);
}
