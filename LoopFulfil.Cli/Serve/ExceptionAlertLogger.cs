using LoopFulfil.Core.Messaging;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Cli.Serve;

/// <summary>
/// The single-machine consumer of the <c>exceptions</c> queue: one warning per alert, with ids, category and owner
/// only (the alert body's message is not logged: it is for the owner, through <c>loopfulfil exceptions list</c>).
/// </summary>
internal sealed partial class ExceptionAlertLogger(ILogger<ExceptionAlertLogger> logger)
{
    public Task HandleAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var p = message.Properties;
        LogAlert(
            message.MessageId.Split(':')[0],
            p.GetValueOrDefault("category") ?? "?",
            p.GetValueOrDefault("owner") ?? "?",
            p.GetValueOrDefault("returnId") ?? "-",
            p.GetValueOrDefault("attempts") ?? "?");
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exception {ExceptionId}: {Category} for {Owner} (return {ReturnId}, attempt {Attempts})")]
    private partial void LogAlert(string exceptionId, string category, string owner, string returnId, string attempts);
}
