namespace LoopFulfil.Cli;

/// <summary>Entry point of the <c>loopfulfil</c> tool; testable without a process.</summary>
public static class CliApp
{
    public const string Usage = """
        loopfulfil — Loop Returns ⇄ Fulfil integration

        Usage:
          loopfulfil --help            Show this help.
          loopfulfil --version         Show the version.
        """;

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            stdout.WriteLine(Usage);
            return Task.FromResult(0);
        }

        if (args[0] is "--version")
        {
            stdout.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3));
            return Task.FromResult(0);
        }

        stderr.WriteLine($"Unknown command '{args[0]}'. Run 'loopfulfil --help'.");
        return Task.FromResult(2);
    }
}
