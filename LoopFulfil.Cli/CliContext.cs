namespace LoopFulfil.Cli;

/// <summary>
/// What a command runs with: its output writers, where configuration comes from and when to stop. The process
/// entry point uses <see cref="ForProcess"/>; tests pass their own settings, so nothing leaks between runs.
/// </summary>
public sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr)
    {
        Stdout = stdout;
        Stderr = stderr;
    }

    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    /// <summary>Settings applied last (win over every file and environment variable); keys in <c>Section:Key</c> form.</summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Read environment variables, user secrets, appsettings.json and local.settings.json (off in tests).</summary>
    public bool ReadProcessConfiguration { get; init; } = true;

    /// <summary>Where appsettings.json and local.settings.json are looked for first.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>Stops long-running commands (<c>serve</c>); the process entry point cancels it on Ctrl+C / SIGTERM.</summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>The clock of report-style commands (<c>audit</c>, <c>shadow report</c>); tests pass a FakeTimeProvider.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Called once <c>serve</c> is listening, with the running host (tests use it to drive and stop it).</summary>
    public Action<Serve.RunningHost>? OnServeStarted { get; init; }

    /// <summary>The context of a real process run.</summary>
    public static CliContext ForProcess(TextWriter stdout, TextWriter stderr, CancellationToken stopping) =>
        new(stdout, stderr) { Stopping = stopping };
}
