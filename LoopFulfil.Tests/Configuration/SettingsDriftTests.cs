using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopFulfil.Core.Health;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;

namespace LoopFulfil.Tests.Configuration;

/// <summary>
/// Every setting a LoopFulfil options class reads must be deployable: present in local.settings.sample.json
/// (Values) and in the Bicep app settings. Options classes are found by convention (name ends with "Options",
/// <c>public const string Section</c>), so a new one is covered the moment it exists.
/// </summary>
public partial class SettingsDriftTests
{
    /// <summary>Sections only the single-machine host reads (still required in local.settings.sample.json).</summary>
    private static readonly HashSet<string> SingleMachineOnlySections = new(StringComparer.Ordinal) { "LocalHost" };

    public static TheoryData<string> OptionsTypes => [.. DiscoverOptionsTypes().Select(t => t.FullName!)];

    [Fact]
    public void Options_discovery_finds_the_options_classes_of_core()
    {
        var found = DiscoverOptionsTypes();

        // At least the ones that exist today; if discovery breaks, every drift check below would pass vacuously.
        Assert.NotEmpty(found);
        Assert.Contains(typeof(HealthOptions), found);
        Assert.Contains("Health__StorageProbeTimeout", SettingKeys(typeof(HealthOptions)));
    }

    [Theory]
    [MemberData(nameof(OptionsTypes))]
    public void Every_options_setting_is_in_local_settings_sample(string optionsType)
    {
        var sample = LocalSettingsKeys();

        var missing = SettingKeys(CoreType(optionsType)).Where(key => !IsPresent(key, sample)).ToList();

        Assert.True(missing.Count == 0, $"local.settings.sample.json Values lacks: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(OptionsTypes))]
    public void Every_options_setting_is_in_the_bicep_app_settings(string optionsType)
    {
        var type = CoreType(optionsType);
        if (SingleMachineOnlySections.Contains(SectionOf(type)!))
        {
            // Read only by `loopfulfil serve`; the Functions app never binds them, so Azure needs no value.
            return;
        }

        var bicep = BicepAppSettingKeys();

        var missing = SettingKeys(type).Where(key => !IsPresent(key, bicep)).ToList();

        Assert.True(missing.Count == 0, $"No Bicep app setting (infra/**/*.bicep) for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Setting_keys_recurse_into_nested_options_and_stop_at_collections()
    {
        var keys = SettingKeys(typeof(SampleOptions));

        Assert.Equal(
            ["Sample__Enabled", "Sample__Endpoint", "Sample__Retry__Attempts", "Sample__Retry__Delay", "Sample__Skus", "Sample__Warehouses"],
            keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_collection_setting_counts_as_present_when_indexed_entries_exist()
    {
        Assert.True(IsPresent("Loop__WebhookSecrets", new HashSet<string>(StringComparer.Ordinal) { "Loop__WebhookSecrets__0" }));
        Assert.False(IsPresent("Loop__WebhookSecrets", new HashSet<string>(StringComparer.Ordinal) { "Loop__WebhookSecretsOld" }));
    }

    // Core and the single-machine host (its LocalHost section is read only by `serve`).
    private static readonly Assembly[] OptionsAssemblies = [typeof(ITableStore).Assembly, typeof(LocalHostOptions).Assembly];

    internal static IReadOnlyList<Type> DiscoverOptionsTypes() =>
    [
        .. OptionsAssemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Name.EndsWith("Options", StringComparison.Ordinal) && SectionOf(t) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal),
    ];

    /// <summary>Environment-form keys (<c>Section__Property</c>, nested: <c>Section__Child__Property</c>).</summary>
    internal static IReadOnlyList<string> SettingKeys(Type optionsType)
    {
        var keys = new List<string>();
        Collect(optionsType, SectionOf(optionsType)!, keys, depth: 0);
        return keys;
    }

    private static void Collect(Type type, string prefix, List<string> keys, int depth)
    {
        Assert.True(depth < 8, $"{type} nests options deeper than 8 levels (a cycle?).");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{prefix}__{property.Name}";
            var settable = property.SetMethod is { IsPublic: true };
            if (IsLeaf(property.PropertyType) || IsCollection(property.PropertyType))
            {
                if (settable)
                {
                    keys.Add(key);
                }
            }
            else if (settable || property.GetMethod is { IsPublic: true })
            {
                // The binder fills nested objects whether they are settable or initialised get-only instances.
                Collect(property.PropertyType, key, keys, depth + 1);
            }
        }
    }

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid) || type == typeof(Uri);
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);

    private static string? SectionOf(Type type) =>
        type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.FieldType == typeof(string)
            ? (string?)field.GetRawConstantValue()
            : null;

    private static Type CoreType(string fullName) =>
        OptionsAssemblies.Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null) ?? throw new TypeLoadException(fullName);

    private static bool IsPresent(string key, HashSet<string> available) =>
        available.Contains(key) || available.Any(k => k.StartsWith(key + "__", StringComparison.Ordinal));

    private static HashSet<string> LocalSettingsKeys()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "local.settings.sample.json")));
        return [.. json.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name)];
    }

    /// <summary>Property keys of Bicep objects (<c>Key: value</c> or <c>'Key': value</c>) across infra/**/*.bicep.</summary>
    private static HashSet<string> BicepAppSettingKeys()
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "infra"), "*.bicep", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        return [.. files.SelectMany(f => BicepPropertyKey().Matches(File.ReadAllText(f))).Select(m => m.Groups["key"].Value)];
    }

    [GeneratedRegex(@"^\s*'?(?<key>[A-Za-z_][A-Za-z0-9_]*)'?\s*:", RegexOptions.Multiline)]
    private static partial Regex BicepPropertyKey();

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LoopFulfil.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No LoopFulfil.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>Shapes the key derivation must handle; not in Core, so not part of the drift checks.</summary>
    private sealed class SampleOptions
    {
        public const string Section = "Sample";

        public bool Enabled { get; set; }

        public Uri? Endpoint { get; set; }

        public RetrySettings Retry { get; } = new();

        public IList<string> Skus { get; set; } = [];

        public Dictionary<string, string> Warehouses { get; set; } = [];

        public string Computed => Enabled ? "on" : "off";
    }

    private sealed class RetrySettings
    {
        public int Attempts { get; set; }

        public TimeSpan? Delay { get; set; }
    }
}
