using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LoopFulfil.Chaos;

/// <summary>
/// <c>dotnet run -c Release --project LoopFulfil.Benchmarks -- chaos [--returns 1000] [--seed 1] [--before 0.2]
/// [--after 0.1] [--loop-before 0.2] [--loop-after 0.1] [--restarts 0] [--parallel 64] [--partitions 64]
/// [--posting-mode Realtime] [--host-log path] [--host-dll path] [--max-step-polls 3000] [--max-quiet-polls 600]
/// [--set key=value]…</c> on System.CommandLine (ADR 0008). Prints the figures and, last, the summary line. Exit codes:
/// 0 clean, 1 any duplicate, missing or unexpected document, duplicate Loop effect or money difference, 2 a usage error.
/// </summary>
public static class ChaosCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var defaults = new ChaosOptions();
        var returns = Number("--returns", defaults.Returns, "Loop returns in the run (N).");
        var seed = Number("--seed", defaults.Seed, "Seeds the mix, the deliveries, the kill points and the fault decisions.");
        var before = Rate("--before", defaults.FulfilBeforeCommitRate, "Share of Fulfil calls failed before commit (429, 503, reset).");
        var after = Rate("--after", defaults.FulfilAfterCommitRate, "Share of Fulfil calls failed after commit (503, dropped, stalled).");
        var loopBefore = Rate("--loop-before", defaults.LoopBeforeCommitRate, "Share of Loop calls failed before commit (429, 503, reset).");
        var loopAfter = Rate("--loop-after", defaults.LoopAfterCommitRate, "Share of Loop calls failed after commit (503, dropped, stalled).");
        var restarts = Number("--restarts", defaults.MinRestarts, "Host kills at least (never fewer than 5 per 1,000 returns).");
        var parallel = Number("--parallel", defaults.Parallelism, "Return scripts in flight at once.");
        var partitions = Number("--partitions", defaults.HostPartitions, "LocalHost:Partitions of the host.");
        var postingMode = new Option<string>("--posting-mode") { Description = "Refunds:PostingMode of the host.", DefaultValueFactory = _ => defaults.PostingMode };
        postingMode.AcceptOnlyFromAmong("Realtime", "Scheduled");
        var erp = new Option<string>("--erp") { Description = "The ERP behind Fulfil: the in-memory simulator, or Tryton 6.0 behind the Fulfil façade (eng/tryton/start.sh).", DefaultValueFactory = _ => defaults.Erp };
        erp.AcceptOnlyFromAmong("simulator", "tryton");
        var hostLog = new Option<string?>("--host-log") { Description = "Where the host's output goes (default: a temporary file)." };
        var hostDll = new Option<string?>("--host-dll") { Description = "The host's loopfulfil.dll (default: the one next to this assembly)." };
        var maxQuiet = Number("--max-quiet-polls", defaults.MaxQuietWaitPolls, "Polls spent waiting for the system to settle at most.");
        var maxStep = Number("--max-step-polls", defaults.MaxPollsPerStep, "Polls a return's script waits for one step at most.");
        var set = new Option<Dictionary<string, string>>("--set")
        {
            Description = "A host setting, key=value in configuration-key form (repeatable).",
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase),
            CustomParser = ParseSettings,
        };
        var command = new RootCommand("The chaos run of issue 13 (docs/benchmarks/chaos.md).")
        {
            returns, seed, before, after, loopBefore, loopAfter, restarts, parallel, partitions, postingMode, erp, hostLog, hostDll, maxQuiet, maxStep, set,
        };
        command.SetAction(async (parse, ct) =>
        {
            ChaosOptions options;
            try
            {
                options = new ChaosOptions
                {
                    Returns = parse.GetValue(returns),
                    Seed = parse.GetValue(seed),
                    FulfilBeforeCommitRate = parse.GetValue(before),
                    FulfilAfterCommitRate = parse.GetValue(after),
                    LoopBeforeCommitRate = parse.GetValue(loopBefore),
                    LoopAfterCommitRate = parse.GetValue(loopAfter),
                    MinRestarts = parse.GetValue(restarts),
                    Parallelism = parse.GetValue(parallel),
                    HostPartitions = parse.GetValue(partitions),
                    PostingMode = parse.GetValue(postingMode)!,
                    Erp = parse.GetValue(erp)!,
                    HostLogPath = parse.GetValue(hostLog),
                    HostDll = parse.GetValue(hostDll),
                    MaxQuietWaitPolls = parse.GetValue(maxQuiet),
                    MaxPollsPerStep = parse.GetValue(maxStep),
                    ExtraHostSettings = parse.GetValue(set)!,
                };
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                output.WriteLine("chaos: " + ex.Message);
                return 2;
            }

            var report = await ChaosRun.RunAsync(options, output, ct);
            foreach (var line in report.Lines())
            {
                output.WriteLine(line);
            }

            return report.Clean ? 0 : 1;
        });

        var parse = command.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            // As before: the error on one line and exit code 2 (the package's error action exits 1 and prints the help).
            foreach (var error in parse.Errors)
            {
                output.WriteLine("chaos: " + error.Message);
            }

            return 2;
        }

        return await parse.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = output, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null },
            cancellationToken);
    }

    private static Option<int> Number(string name, int fallback, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback };

    /// <summary>A share from 0 to 1 (invariant culture, as before).</summary>
    private static Option<double> Rate(string name, double fallback, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1)
            {
                return value;
            }

            result.AddError($"{name} takes a share from 0 to 1, not '{text}'.");
            return fallback;
        },
    };

    /// <summary>Every <c>--set key=value</c> (host settings in configuration-key form, e.g. <c>Logging:LogLevel:Default=Information</c>).</summary>
    private static Dictionary<string, string> ParseSettings(ArgumentResult result)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in result.Tokens)
        {
            var pair = token.Value.Split('=', 2);
            if (pair.Length != 2 || pair[0].Length == 0)
            {
                result.AddError($"--set wants key=value, not '{token.Value}'.");
                continue;
            }

            settings[pair[0]] = pair[1];
        }

        return settings;
    }
}
