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

    private readonly ExceptionService _exceptions;
    private readonly ILoopClient _loop;
    private readonly IOptionsMonitor<ExceptionOptions> _options;
    private readonly ILogger<ReturnExceptionReporter> _logger;

    public ReturnExceptionReporter(ExceptionService exceptions, ILoopClient loop, IOptionsMonitor<ExceptionOptions> options, ILogger<ReturnExceptionReporter> logger)
    {
        _exceptions = exceptions;
        _loop = loop;
        _options = options;
        _logger = logger;
    }

    public async Task<ExceptionRecord> ReportAsync(ExceptionRaise raise, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raise);
        var record = await _exceptions.RaiseAsync(raise, cancellationToken).ConfigureAwait(false);
        if (!_options.CurrentValue.FlagReturnInLoop || record.ReturnId is null || record.Attempts > 1)
        {
            // Repeats of the same problem already flagged the return (and a second identical note helps nobody).
            return record;
        }

        try
        {
            await _loop.FlagReturnAsync(record.ReturnId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Loop refuses to flag some states (closed, already flagged); the record and its alert stand regardless.
            LogFlagFailed(_logger, ex, record.ReturnId, record.Id);
        }

        try
        {
            await _loop.AddReturnNoteAsync(record.ReturnId, NoteFor(record), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNoteFailed(_logger, ex, record.ReturnId, record.Id);
        }

        return record;
    }

    /// <summary>The note: category, owner and record id first so truncation only ever cuts the free text.</summary>
    internal static string NoteFor(ExceptionRecord record)
    {
        var note = $"LoopFulfil: {record.Category} (owner {record.Owner}, exception {record.Id}). {record.Message}";
        return note.Length <= MaxNoteChars ? note : note[..(MaxNoteChars - 1)] + "…";
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Flagging return {ReturnId} in Loop for exception {ExceptionId} failed; the exception record stands")]
    private static partial void LogFlagFailed(ILogger logger, Exception exception, string returnId, string exceptionId);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Warning, Message = "Adding a note to return {ReturnId} in Loop for exception {ExceptionId} failed; the exception record stands")]
    private static partial void LogNoteFailed(ILogger logger, Exception exception, string returnId, string exceptionId);
}
