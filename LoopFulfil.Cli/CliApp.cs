using System.CommandLine;
using System.CommandLine.Help;
using LoopFulfil.Cli.Demo;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Operator;
using LoopFulfil.Cli.Serve;

namespace LoopFulfil.Cli;

/// <summary>Entry point of the <c>loopfulfil</c> tool; testable without a process.</summary>
public static class CliApp
{
    public const string Name = "loopfulfil";

    private const string Description = """
        loopfulfil — Loop Returns ⇄ Fulfil integration

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

        // No response files: an argument such as --note "@ops fixed it" is text, not a file to read.
        var parse = BuildRootCommand(context).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            return CommandSyntax.UsageError(parse, context.Stderr);
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Stdout,
            Error = context.Stderr,
            // Exceptions reach the caller as before, and Ctrl+C stays with serve's host (its grace period), not the parser.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, context.Stopping).ConfigureAwait(false);
    }

    /// <summary>The command tree; each command file builds its own command (and binds it to <paramref name="context"/>).</summary>
    internal static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(Description)
        {
            ServeCommand.Build(context),
            DemoCommand.Build(context),
            ExceptionsCommand.Build(context),
            ReturnsCommand.Build(context),
            SyncCommand.Build(context),
            ReconcileCommand.Build(context),
            AuditCommand.Build(context),
            ShadowCommand.Build(context),
            PrivacyCommand.Build(context),
        };
        root.HelpName = Name;

        var helpOption = root.Options.OfType<HelpOption>().Single();
        var standard = (HelpAction)helpOption.Action!;
        standard.MaxWidth = CommandSyntax.HelpWidth;
        var help = new HelpWithNotes(standard);
        helpOption.Action = help;

        root.Options.OfType<VersionOption>().Single().Action = new ToolVersion();

        // 'loopfulfil' alone and 'loopfulfil help [command]' print help, as they always have.
        root.SetAction(help.Invoke);
        var topic = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore };
        var helpCommand = new Command("help") { Hidden = true };
        helpCommand.Arguments.Add(topic);
        helpCommand.SetAction(parse => root.Parse([.. parse.GetValue(topic) ?? [], "--help"]).Invoke(parse.InvocationConfiguration));
        root.Subcommands.Add(helpCommand);
        return root;
    }
}
