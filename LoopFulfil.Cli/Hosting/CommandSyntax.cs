using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using LoopFulfil.Cli.Serve;

namespace LoopFulfil.Cli.Hosting;

/// <summary>
/// A top-level command with notes that its own <c>--help</c> prints after the options (routes, exit codes, settings it
/// needs); the one-line description is what the command list under <c>loopfulfil --help</c> shows.
/// </summary>
internal sealed class NotedCommand(string name, string description, string notes) : Command(name, description)
{
    public string Notes { get; } = notes;
}

/// <summary>The options several commands share and the value types System.CommandLine has no parser for.</summary>
internal static class CommandSyntax
{
    /// <summary>The widest help line; descriptions are written to fit it.</summary>
    public const int HelpWidth = 120;

    /// <summary><c>--erp sandbox|tryton</c> (demo, serve --sandbox).</summary>
    public static Option<string> Erp(string description)
    {
        var option = new Option<string>("--erp") { Description = description };
        option.AcceptOnlyFromAmong("sandbox", "tryton");
        return option;
    }

    /// <summary>A whole number within [min, max]; null when the option is absent (the setting's default applies).</summary>
    public static Option<int?> WholeNumber(string name, string helpName, string description, int min = 0, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError(max == int.MaxValue
                ? $"{name} takes a whole number, not '{text}'."
                : $"{name} takes a whole number from {min} to {max}, not '{text}'.");
            return null;
        },
    };

    /// <summary>A UTC date written <c>yyyy-MM-dd</c>, as midnight UTC.</summary>
    public static Option<DateTimeOffset?> Date(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "yyyy-MM-dd",
        Required = true,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
            {
                return new DateTimeOffset(date, TimeSpan.Zero);
            }

            result.AddError($"{name} takes a date as yyyy-MM-dd (UTC), not '{text}'.");
            return null;
        },
    };

    /// <summary>
    /// An enum filter parsed exactly as the ops routes parse it (any case, names only, never numbers), so
    /// <c>--category skunotfound</c> means the same on the command line and in <c>?category=</c>.
    /// </summary>
    public static Option<TEnum?> EnumFilter<TEnum>(string name, string description)
        where TEnum : struct, Enum => new(name)
        {
            Description = description,
            HelpName = typeof(TEnum).Name.ToLowerInvariant(),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (ServeRoutes.TryParse<TEnum>(text, out var value) && value is not null)
                {
                    return value;
                }

                result.AddError($"{name} must be one of {ServeRoutes.Names<TEnum>()}; not '{text}'.");
                return null;
            },
        };

    /// <summary>
    /// An option's value inside a command validator, or default when it is absent or did not parse. Validators run
    /// even after a value failed to parse (that error is already reported), and GetValue throws for such a value.
    /// </summary>
    public static T? ParsedValue<T>(this CommandResult result, Option<T> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    /// <summary>
    /// Parse errors as the tool has always reported them: each on stderr, then where help is, and exit code 2
    /// (System.CommandLine's own error action exits 1 and prints the whole help on stdout).
    /// </summary>
    public static int UsageError(ParseResult parse, TextWriter stderr)
    {
        foreach (var error in parse.Errors)
        {
            stderr.WriteLine(error.Message);
        }

        var path = new Stack<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            path.Push(result.Parent is null ? CliApp.Name : result.Command.Name);
        }

        stderr.WriteLine($"Run '{string.Join(' ', path)} --help'.");
        return 2;
    }
}

/// <summary>The standard help, then the command's <see cref="NotedCommand.Notes"/>.</summary>
internal sealed class HelpWithNotes(HelpAction standard) : SynchronousCommandLineAction
{
    // As the standard help: '--help' wins over any other error on the line.
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var code = standard.Invoke(parseResult);
        if (parseResult.CommandResult.Command is NotedCommand { Notes: var notes })
        {
            parseResult.InvocationConfiguration.Output.WriteLine(notes);
        }

        return code;
    }
}

/// <summary><c>--version</c>: this tool's version, as before; the standard action prints the entry assembly's (a test host's, in tests).</summary>
internal sealed class ToolVersion : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3));
        return 0;
    }
}
