using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LoopFulfil.Tests.Deployment;

/// <summary>
/// The ARM JSON the real Bicep compiler made from infra/main.bicep (eng/Bicep writes artifacts/arm/main.json), with
/// just enough expression evaluation to read what a deployment would set: literal values, module parameters
/// passed through or defaulted, and merchant answers for the parameters azd asks for. Anything the deployment
/// computes (names, endpoints, identity ids, Key Vault references) is reported as such, not guessed.
/// </summary>
internal sealed partial class ArmTemplate
{
    private readonly IReadOnlyDictionary<string, string> _answers;

    private ArmTemplate(JsonObject root, IReadOnlyDictionary<string, string> answers)
    {
        Root = root;
        _answers = answers;
    }

    public JsonObject Root { get; }

    /// <summary>Loads the compiled template; <paramref name="answers"/> are what the merchant types when azd asks.</summary>
    public static ArmTemplate Load(IReadOnlyDictionary<string, string> answers)
    {
        var path = Path.Combine(RepoRoot(), "artifacts", "arm", "main.json");
        Assert.True(File.Exists(path), $"{path} is missing: build eng/Bicep/Bicep.csproj (LoopFulfil.Tests references it), which runs `bicep build`.");
        return new ArmTemplate(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), answers);
    }

    /// <summary>Main-template parameters without a default value: azd asks for these unless the parameters file maps them.</summary>
    public IEnumerable<string> RequiredParameters() =>
        Root["parameters"]!.AsObject().Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key);

    /// <summary>A module (nested deployment) by its Bicep name.</summary>
    public JsonObject Module(string name) =>
        Root["resources"]!.AsArray().Single(r => (string?)r!["type"] == "Microsoft.Resources/deployments" && (string?)r["name"] == name)!.AsObject();

    public static JsonObject Template(JsonObject module) => module["properties"]!["template"]!.AsObject();

    public static IEnumerable<JsonObject> Resources(JsonObject template, string type) =>
        template["resources"]!.AsArray().Select(r => r!.AsObject()).Where(r => (string?)r["type"] == type);

    /// <summary>One app setting value as deployed, or null when the deployment computes it (see <see cref="Computed"/>).</summary>
    public string? Evaluate(JsonObject module, JsonNode? value)
    {
        var text = value!.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)value! : value.ToJsonString();
        if (!text.StartsWith('['))
        {
            return text;
        }

        var parameter = ParameterExpression().Match(text);
        if (!parameter.Success)
        {
            return null;
        }

        return ModuleParameter(module, parameter.Groups["name"].Value);
    }

    /// <summary>True when <paramref name="value"/> is an expression the deployment evaluates (not a literal or parameter).</summary>
    public bool Computed(JsonObject module, JsonNode? value) => Evaluate(module, value) is null;

    private string? ModuleParameter(JsonObject module, string name)
    {
        var passed = module["properties"]!["parameters"]!.AsObject()[name]?["value"];
        if (passed is null)
        {
            var own = Template(module)["parameters"]![name]!["defaultValue"];
            return own is null ? null : Scalar(own);
        }

        var text = passed.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)passed! : passed.ToJsonString();
        if (!text.StartsWith('['))
        {
            return text;
        }

        var main = ParameterExpression().Match(text);
        return main.Success ? MainParameter(main.Groups["name"].Value) : null;
    }

    private string MainParameter(string name)
    {
        var declared = Root["parameters"]![name] ?? throw new InvalidOperationException($"main.bicep has no parameter {name}");
        if (_answers.TryGetValue(name, out var answer))
        {
            return answer;
        }

        var defaultValue = declared["defaultValue"] ?? throw new Xunit.Sdk.XunitException($"main.bicep parameter {name} has no default; the test must answer it as azd would ask.");
        return Scalar(defaultValue);
    }

    private static string Scalar(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => (string)node!,
        System.Text.Json.JsonValueKind.True => "True",
        System.Text.Json.JsonValueKind.False => "False",
        _ => node.ToJsonString(),
    };

    // [parameters('x')] or [string(parameters('x'))]: both read as the parameter's text.
    [GeneratedRegex(@"^\[(?:string\()?parameters\('(?<name>[A-Za-z0-9_]+)'\)\)?\]$")]
    private static partial Regex ParameterExpression();

    internal static string RepoRoot()
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
}
