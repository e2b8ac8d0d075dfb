using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Loop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// Raises the exception record (with the raw event, for replay), then, when <see cref="ExceptionOptions.FlagReturnInLoop"/>
/// is on, flags the return in Loop and notes why. The record is written first and a Loop failure is only logged:
/// losing the record to a flaky Loop call would hide the problem from its owner.
/// </summary>
public sealed partial class ReturnExceptionReporter : IReturnExceptionReporter
{
    // Loop rejects notes longer than 254 characters.
    private const int MaxNoteChars = 254;

    private readonly ExceptionService exceptions;
    private readonly ILoopClient loop;
    private readonly IOptionsMonitor<ExceptionOptions> options;
    private readonly ILogger<ReturnExceptionReporter> logger;

    public ReturnExceptionReporter(ExceptionService exceptions, ILoopClient loop, IOptionsMonitor<ExceptionOptions> options, ILogger<ReturnExceptionReporter> logger)
    {
        this.exceptions = exceptions;
        this.loop = loop;
        this.options = options;
        this.logger = logger;
    }

    public async Task<ExceptionRecord> ReportAsync(ExceptionRaise raise, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raise);
        ExceptionRecord record = await exceptions.RaiseAsync(raise, cancellationToken).ConfigureAwait(false);
        if (!options.CurrentValue.FlagReturnInLoop || record.ReturnId is null || record.Attempts > 1)
        {
            // Repeats of the same problem already flagged the return (and a second identical note helps nobody).
            return record;
        }

        try
        {
            await loop.FlagReturnAsync(record.ReturnId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Loop refuses to flag some states (closed, already flagged); the record and its alert stand regardless.
            LogFlagFailed(logger, ex, record.ReturnId, record.Id);
        }

        try
        {
            await loop.AddReturnNoteAsync(record.ReturnId, NoteFor(record), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNoteFailed(logger, ex, record.ReturnId, record.Id);
        }

        return record;
    }

    /// <summary>The note: category, owner and record id first so truncation only ever cuts the free text.</summary>
    internal static string NoteFor(ExceptionRecord record)
    {
        string note = $"LoopFulfil: {record.Category} (owner {record.Owner}, exception {record.Id}). {record.Message}";
        return note.Length <= MaxNoteChars ? note : note[..(MaxNoteChars - 1)] + "…";
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Flagging return {ReturnId} in Loop for exception {ExceptionId} failed; the exception record stands")]
    private static partial void LogFlagFailed(ILogger logger, Exception exception, string returnId, string exceptionId);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Warning, Message = "Adding a note to return {ReturnId} in Loop for exception {ExceptionId} failed; the exception record stands")]
    private static partial void LogNoteFailed(ILogger logger, Exception exception, string returnId, string exceptionId);
}
