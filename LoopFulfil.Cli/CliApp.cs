using LoopFulfil.Cli.Demo;
using LoopFulfil.Cli.Operator;
using LoopFulfil.Cli.Serve;

namespace LoopFulfil.Cli;

/// <summary>Entry point of the <c>loopfulfil</c> tool; testable without a process.</summary>
public static class CliApp
{
    public const string Usage = """
        loopfulfil — Loop Returns ⇄ Fulfil integration

        Usage:
          loopfulfil serve [--sandbox] [--urls <urls>]   Run the integration on this machine (sandbox mode when no
                                                         Loop/Fulfil credentials are configured).
          loopfulfil demo                                Sandbox end to end: scenarios, then what Fulfil holds.
          loopfulfil exceptions list [--status <s>] [--category <c>]
          loopfulfil exceptions replay <id> | --category <c>
          loopfulfil exceptions resolve <id> [--note <text>]
          loopfulfil returns show <loop-return-id>       The ledger record of one return and its steps.
          loopfulfil sync backfill                       Push Fulfil's catalogue, customers, orders, stock to Loop.
          loopfulfil reconcile --from <d> --to <d> [--out <dir>]   Compare Loop, Fulfil and the ledger; repair.
          loopfulfil reconcile --read-only --from <d> --to <d>     The same comparison, changing nothing.
          loopfulfil audit [--days <n>] [--webhook-url <url>] [--out <dir>]   Go-live readiness report.
          loopfulfil privacy erase --email <address>     Erase one person's stored data; prints a receipt.
          loopfulfil --help | <command> --help
          loopfulfil --version

        Configuration: the keys of local.settings.sample.json, from environment variables (Storage__ConnectionString),
        appsettings.json, user secrets, or the Values of local.settings.json. See docs/local-host.md.
        """;

    /// <summary>Runs one command as the process would, reading the process's configuration.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, new CliContext(stdout, stderr));

    /// <summary>Runs one command with an explicit context (settings, cancellation); what tests call.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            context.Stdout.WriteLine(Usage);
            return 0;
        }

        if (args[0] is "--version")
        {
            context.Stdout.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3));
            return 0;
        }

        var rest = args.Skip(1).ToArray();
        return args[0] switch
        {
            "serve" => await ServeCommand.RunAsync(context, rest).ConfigureAwait(false),
            "demo" => await DemoCommand.RunAsync(context, rest).ConfigureAwait(false),
            "exceptions" => await ExceptionsCommand.RunAsync(context, rest).ConfigureAwait(false),
            "returns" => await ReturnsCommand.RunAsync(context, rest).ConfigureAwait(false),
            "sync" => await SyncCommand.RunAsync(context, rest).ConfigureAwait(false),
            "reconcile" => rest.Contains("--read-only")
                ? await ReconcileCommand.RunAsync(context, [.. rest.Where(a => a != "--read-only")], Core.Reconciliation.ReconciliationMode.Audit).ConfigureAwait(false)
                : await ReconcileCommand.RunAsync(context, rest, Core.Reconciliation.ReconciliationMode.Daily).ConfigureAwait(false),
            "audit" => await AuditCommand.RunAsync(context, rest).ConfigureAwait(false),
            "privacy" => await PrivacyCommand.RunAsync(context, rest).ConfigureAwait(false),
            _ => Unknown(context, args[0]),
        };
    }

    private static int Unknown(CliContext context, string command)
    {
        context.Stderr.WriteLine($"Unknown command '{command}'. Run 'loopfulfil --help'.");
        return 2;
    }
}
