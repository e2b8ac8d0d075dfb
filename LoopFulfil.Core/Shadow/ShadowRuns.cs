using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// Shadow mode outside the returns pipeline: a write planned by a timer's job (posting, repair, catch-up, commerce
/// sync) is recorded in the plan by <see cref="ShadowWriteHandler"/>; the run stops there quietly (no failure, no
/// exception record), since everything after it would build on a document that was not written.
/// </summary>
public static partial class ShadowRuns
{
    /// <summary>The shadow write <paramref name="ex"/> is (or wraps), if any.</summary>
    public static ShadowWritePlannedException? Planned(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is ShadowWritePlannedException planned)
            {
                return planned;
            }
        }

        return null;
    }

    /// <summary>Runs timer <paramref name="function"/>'s job; a planned shadow write ends the run, logged.</summary>
    public static Func<IServiceProvider, CancellationToken, Task> StopQuietly(string function, Func<IServiceProvider, CancellationToken, Task> run)
    {
        ArgumentException.ThrowIfNullOrEmpty(function);
        ArgumentNullException.ThrowIfNull(run);
        return async (services, cancellationToken) =>
        {
            try
            {
                await run(services, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Planned(ex) is { } planned)
            {
                var logger = services.GetService<ILoggerFactory>()?.CreateLogger(typeof(ShadowRuns).FullName!) ?? NullLogger.Instance;
                LogRunStopped(logger, function, planned.Write.Model, planned.Write.Method);
            }
        };
    }

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Shadow mode: timer {Function} planned {Model}.{Method} (recorded in the shadow plan); the run stops here")]
    private static partial void LogRunStopped(ILogger logger, string function, string model, string method);
}
