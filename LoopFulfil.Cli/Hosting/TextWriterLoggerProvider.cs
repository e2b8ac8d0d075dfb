using System.Globalization;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Cli.Hosting;

/// <summary>
/// One line per log entry to a <see cref="TextWriter"/> (the command's output), so a host run in-process logs where
/// its caller reads. Structured values are rendered by the message template; nothing else is added.
/// </summary>
internal sealed class TextWriterLoggerProvider(TextWriter writer) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, ShortName(categoryName));

    public void Dispose()
    {
    }

    private static string ShortName(string category)
    {
        var dot = category.LastIndexOf('.');
        return dot < 0 ? category : category[(dot + 1)..];
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private sealed class Logger(TextWriterLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            var level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var line = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.Now:HH:mm:ss} {level} {category}: {formatter(state, exception)}");
            if (exception is not null)
            {
                // Type and message only: stack traces are noise on an operator's console.
                line += string.Create(CultureInfo.InvariantCulture, $" [{exception.GetType().Name}: {exception.Message}]");
            }

            owner.Write(line);
        }
    }
}
