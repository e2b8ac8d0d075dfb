using Spectre.Console;

namespace LoopFulfil.Cli.Hosting;

/// <summary>Spectre.Console bound to a command's writer: ANSI and live displays only on a real terminal.</summary>
internal static class ConsoleOutput
{
    public static IAnsiConsole For(TextWriter writer)
    {
        var terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
        {
            // Redirected output (files, CI logs, tests) gets full-width rows instead of 80-column wrapping.
            console.Profile.Width = 160;
        }

        return console;
    }
}
