using System.Globalization;

namespace LoopFulfil.Chaos;

/// <summary>
/// <c>dotnet run -c Release --project LoopFulfil.Benchmarks -- chaos [--returns 1000] [--seed 1] [--before 0.2]
/// [--after 0.1] [--restarts 0] [--parallel 32] [--partitions 16] [--posting-mode Realtime] [--host-log path]
/// [--set key=value]…</c>. Prints the figures
/// and, last, the summary line; exits 1 on any duplicate, missing or unexpected document or money difference.
/// </summary>
public static class ChaosCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var defaults = new ChaosOptions();
        ChaosOptions options;
        try
        {
            options = new ChaosOptions
            {
                Returns = Number(args, "--returns", defaults.Returns),
                Seed = Number(args, "--seed", defaults.Seed),
                FulfilBeforeCommitRate = Rate(args, "--before", defaults.FulfilBeforeCommitRate),
                FulfilAfterCommitRate = Rate(args, "--after", defaults.FulfilAfterCommitRate),
                MinRestarts = Number(args, "--restarts", defaults.MinRestarts),
                Parallelism = Number(args, "--parallel", defaults.Parallelism),
                HostPartitions = Number(args, "--partitions", defaults.HostPartitions),
                PostingMode = Text(args, "--posting-mode") ?? defaults.PostingMode,
                HostLogPath = Text(args, "--host-log"),
                HostDll = Text(args, "--host-dll"),
                MaxQuietWaitPolls = Number(args, "--max-quiet-polls", defaults.MaxQuietWaitPolls),
                MaxPollsPerStep = Number(args, "--max-step-polls", defaults.MaxPollsPerStep),
                ExtraHostSettings = Settings(args),
            };
            options.Validate();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            output.WriteLine("chaos: " + ex.Message);
            return 2;
        }

        var report = await ChaosRun.RunAsync(options, output, cancellationToken);
        foreach (var line in report.Lines())
        {
            output.WriteLine(line);
        }

        return report.Clean ? 0 : 1;
    }

    private static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Every <c>--set key=value</c> (host settings in configuration-key form, e.g. <c>Logging:LogLevel:Default=Information</c>).</summary>
    private static Dictionary<string, string> Settings(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--set")
            {
                var pair = args[i + 1].Split('=', 2);
                settings[pair[0]] = pair.Length == 2 ? pair[1] : throw new FormatException($"--set wants key=value, not '{args[i + 1]}'.");
            }
        }

        return settings;
    }

    private static int Number(string[] args, string name, int fallback) =>
        Text(args, name) is { } text ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture) : fallback;

    private static double Rate(string[] args, string name, double fallback) =>
        Text(args, name) is { } text ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;
}
