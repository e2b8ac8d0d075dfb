using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace LoopFulfil.Cli.Hosting;

/// <summary>
/// Configuration for every command, from the same keys as the Functions app (<c>local.settings.sample.json</c>):
/// appsettings.json, then the <c>Values</c> of local.settings.json (so one file configures both hosts), user secrets,
/// environment variables (<c>Storage__ConnectionString</c>) and finally the context's settings.
/// </summary>
internal static class CliConfiguration
{
    public const string LocalSettingsFile = "local.settings.json";

    /// <summary>Same as the project's <c>UserSecretsId</c>, so <c>dotnet user-secrets set --project LoopFulfil.Cli</c> reaches it.</summary>
    public const string UserSecretsId = "loopfulfil-cli";

    public static IConfigurationRoot Build(CliContext context, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        if (context.ReadProcessConfiguration)
        {
            builder.AddJsonFile(Path.Combine(context.WorkingDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
            if (FindLocalSettings(context.WorkingDirectory) is { } localSettings)
            {
                builder.AddInMemoryCollection(ReadLocalSettingsValues(localSettings));
            }

            builder.AddUserSecrets(UserSecretsId);
            builder.AddEnvironmentVariables();
        }

        builder.AddInMemoryCollection(context.Settings);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        return builder.Build();
    }

    /// <summary>The local.settings.json in use: the working directory's, else the repository root's, else the Functions project's.</summary>
    public static string? FindLocalSettings(string workingDirectory)
    {
        var candidates = new List<string> { Path.Combine(workingDirectory, LocalSettingsFile) };
        if (FindRepositoryRoot(workingDirectory) is { } root)
        {
            candidates.Add(Path.Combine(root, LocalSettingsFile));
            candidates.Add(Path.Combine(root, "LoopFulfil.Functions", LocalSettingsFile));
        }

        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>The directory holding LoopFulfil.sln, searched upwards from <paramref name="start"/>, or null.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LoopFulfil.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>
    /// The <c>Values</c> object of a Functions local.settings.json, with <c>__</c> turned into <c>:</c> as the
    /// environment variable provider does.
    /// </summary>
    public static Dictionary<string, string?> ReadLocalSettingsValues(string path)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        if (document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("Values", out var entries)
            && entries.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in entries.EnumerateObject())
            {
                values[entry.Name.Replace("__", ":", StringComparison.Ordinal)] = entry.Value.ValueKind == JsonValueKind.String
                    ? entry.Value.GetString()
                    : entry.Value.GetRawText();
            }
        }

        return values;
    }

    /// <summary>True when <paramref name="key"/> holds a real value: not empty and not a sample placeholder such as <c>&lt;fulfil-api-key&gt;</c>.</summary>
    public static bool IsSet(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return !string.IsNullOrWhiteSpace(value) && !(value.TrimStart().StartsWith('<') && value.TrimEnd().EndsWith('>'));
    }

    /// <summary>The environment variable form of a key (<c>Storage:ConnectionString</c> → <c>Storage__ConnectionString</c>).</summary>
    public static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
