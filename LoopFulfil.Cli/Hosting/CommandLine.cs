namespace LoopFulfil.Cli.Hosting;

/// <summary>
/// The parsed arguments of one command: positional values and <c>--name value</c> / <c>--flag</c> options.
/// Hand-rolled on purpose: the tool has a handful of commands and System.CommandLine is not on this feed.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    private CommandLine(List<string> positional) => Positional = positional;

    public IReadOnlyList<string> Positional { get; }

    public bool Help { get; private set; }

    /// <summary>Parses <paramref name="args"/>; <paramref name="flags"/> take no value, <paramref name="valued"/> take one.</summary>
    /// <returns>Null with <paramref name="error"/> set when an option is unknown or lacks its value.</returns>
    public static CommandLine? Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> flags, IReadOnlyCollection<string> valued, out string? error)
    {
        var line = new CommandLine([]);
        var positional = (List<string>)line.Positional;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                line.Help = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                positional.Add(arg);
                continue;
            }

            var name = arg;
            string? inline = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }

            if (flags.Contains(name) && inline is null)
            {
                line._options[name] = null;
            }
            else if (valued.Contains(name))
            {
                if (inline is null && (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
                {
                    error = $"Option {name} needs a value.";
                    return null;
                }

                line._options[name] = inline ?? args[++i];
            }
            else
            {
                error = $"Unknown option {name}.";
                return null;
            }
        }

        error = null;
        return line;
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.TryGetValue(name, out var value) ? value : null;
}
