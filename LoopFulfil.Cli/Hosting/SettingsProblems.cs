using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Cli.Hosting;

/// <summary>Turns configuration failures into messages that name the setting the way it is set (<c>Fulfil__ApiKey</c>).</summary>
internal static partial class SettingsProblems
{
    /// <summary>Writes each failure of <paramref name="exception"/> with the environment form of the keys it names.</summary>
    public static void Write(TextWriter stderr, OptionsValidationException exception)
    {
        stderr.WriteLine("Configuration is incomplete or invalid:");
        foreach (var failure in exception.Failures.SelectMany(f => f.Split("; ", StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal))
        {
            stderr.WriteLine("  - " + WithEnvironmentNames(failure));
        }

        stderr.WriteLine("Set them as environment variables, in local.settings.json (Values) or appsettings.json; see docs/local-host.md.");
    }

    /// <summary>Appends <c>(Section__Key)</c> after the first <c>Section:Key</c> in <paramref name="message"/>.</summary>
    public static string WithEnvironmentNames(string message)
    {
        var match = KeyPattern().Match(message);
        return match.Success ? $"{message} (setting {CliConfiguration.EnvironmentName(match.Value)})" : message;
    }

    [GeneratedRegex(@"\b[A-Z][A-Za-z]+(:[A-Z][A-Za-z0-9]+)+\b")]
    private static partial Regex KeyPattern();
}
