using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Functions;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Tests.Configuration;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NCrontab;

namespace LoopFulfil.Tests.Deployment;

/// <summary>
/// Reads the ARM JSON compiled from infra/ by the real Bicep CLI (eng/Bicep) and checks what a deployment would
/// do: the app settings, with parameter defaults and the merchant's azd answers, start the composed app; each role
/// assignment grants the intended built-in role on the intended resource; queue flags match the triggers; each
/// timer's schedule setting exists and parses as the Functions host parses it.
/// </summary>
public partial class ArmTemplateTests
{
    /// <summary>What a merchant types when `azd up` asks (docs/deploy.md, step 3).</summary>
    private static readonly Dictionary<string, string> AzdAnswers = new()
    {
        ["environmentName"] = "prod",
        ["location"] = "eastus2",
        ["fulfilBaseUrl"] = "https://acme.fulfil.io/api/v2/",
        ["fulfilWarehouseId"] = "4",
        ["fulfilReturnsClearingAccountCode"] = "2105",
        ["fulfilGiftCardLiabilityAccountCode"] = "2400",
        ["fulfilJournalId"] = "7",
    };

    /// <summary>
    /// Settings only the deployment can fill in, with values of the shape it produces. Key Vault references become
    /// the secret's value before the app reads them; the platform resolves them with the app's identity.
    /// </summary>
    private static readonly Dictionary<string, string> DeploymentComputed = new()
    {
        ["AzureWebJobsStorage__accountName"] = "stprodabc123",
        ["AzureWebJobsStorage__clientId"] = "6c1f1b3e-0000-4000-8000-000000000001",
        ["ServiceBusConnection__fullyQualifiedNamespace"] = "sb-prod-abc123.servicebus.windows.net",
        ["ServiceBusConnection__clientId"] = "6c1f1b3e-0000-4000-8000-000000000001",
        ["AZURE_CLIENT_ID"] = "6c1f1b3e-0000-4000-8000-000000000001",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000",
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "ClientId=6c1f1b3e-0000-4000-8000-000000000001;Authorization=AAD",
        ["Storage__TableEndpoint"] = "https://stprodabc123.table.core.windows.net",
        ["Storage__QueueEndpoint"] = "https://stprodabc123.queue.core.windows.net",
        ["Storage__BlobEndpoint"] = "https://stprodabc123.blob.core.windows.net",
        ["Storage__ClientId"] = "6c1f1b3e-0000-4000-8000-000000000001",
        ["Loop__ApiKey"] = "loop-api-key-from-key-vault",
        ["Webhooks__Secret"] = "loop-webhook-secret-from-key-vault",
        ["Fulfil__ApiKey"] = "fulfil-api-key-from-key-vault",
    };

    private static readonly string[] SecretSettings = ["Loop__ApiKey", "Webhooks__Secret", "Fulfil__ApiKey"];

    private static readonly ArmTemplate Arm = ArmTemplate.Load(AzdAnswers);

    [Fact]
    public void Azd_asks_for_exactly_the_merchant_values_that_have_no_safe_default()
    {
        var parametersFile = File.ReadAllText(Path.Combine(ArmTemplate.RepoRoot(), "infra", "main.parameters.json"));
        var mapped = JsonNode.Parse(parametersFile)!["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();

        var asked = Arm.RequiredParameters().Where(p => !mapped.Contains(p)).Order(StringComparer.Ordinal);

        Assert.Equal(["fulfilBaseUrl", "fulfilGiftCardLiabilityAccountCode", "fulfilJournalId", "fulfilReturnsClearingAccountCode", "fulfilWarehouseId"], asked);
        Assert.Contains("${AZURE_PRINCIPAL_TYPE=User}", parametersFile, StringComparison.Ordinal);
    }

    [Fact]
    public void App_settings_as_deployed_start_the_composed_app_with_every_option_valid()
    {
        var settings = DeployedAppSettings();

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(p => new KeyValuePair<string, string?>(p.Key.Replace("__", ":", StringComparison.Ordinal), p.Value)))
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddLoopFulfil(configuration);
        services.AddLoopFulfilServiceBusSender(configuration);
        services.AddSingleton<IMessageSender>(new RecordingMessageSender());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        foreach (var options in SettingsDriftTests.DiscoverOptionsTypes().Where(t => t != typeof(LoopFulfil.LocalHost.LocalHostOptions)))
        {
            // Reading Value runs the same validation as ValidateOnStart in the deployed worker.
            var accessor = provider.GetRequiredService(typeof(IOptions<>).MakeGenericType(options));
            Assert.NotNull(accessor.GetType().GetProperty("Value")!.GetValue(accessor));
        }

        Assert.Equal("https://acme.fulfil.io/api/v2/", settings["Fulfil__BaseUrl"]);
        Assert.True(provider.GetRequiredService<ServiceBusConnectionSettings>() is { UsesManagedIdentity: true, ClientId: not null });
    }

    [Fact]
    public void Only_names_endpoints_identity_ids_and_key_vault_references_are_left_to_the_deployment()
    {
        var (module, appSettings) = AppSettingsResource();

        var computed = appSettings.Where(p => Arm.Computed(module, p.Value)).Select(p => p.Key).Order(StringComparer.Ordinal);

        Assert.Equal(DeploymentComputed.Keys.Order(StringComparer.Ordinal), computed);
        Assert.All(SecretSettings, key => Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri=", (string?)appSettings[key], StringComparison.Ordinal));
    }

    [Fact]
    public void Every_role_assignment_grants_the_intended_built_in_role_on_the_intended_resource()
    {
        var module = Arm.Module("roleAssignments");
        var template = ArmTemplate.Template(module);
        var roles = template["variables"]!["roles"]!.AsObject();

        var granted = ArmTemplate.Resources(template, "Microsoft.Authorization/roleAssignments").Select(r =>
        {
            var scopeType = ScopeType().Match((string)r["scope"]!).Groups["type"].Value;
            var roleName = RoleVariable().Match((string)r["properties"]!["roleDefinitionId"]!).Groups["role"].Value;
            var principal = ((string)r["properties"]!["principalId"]!).Contains("deployerPrincipalId", StringComparison.Ordinal) ? "deployer" : "app";
            var principalType = (string)r["properties"]!["principalType"]!;
            Assert.Contains(roleName, (string)r["name"]!, StringComparison.Ordinal);
            return $"{principal} {scopeType} {(string)roles[roleName]!} {principalType}";
        }).Order(StringComparer.Ordinal);

        // Built-in role ids from Microsoft's "Azure built-in roles" reference.
        Assert.Equal(
            [
                "app Microsoft.Insights/components 3913510d-42f4-4e42-8a64-420c390055eb ServicePrincipal", // Monitoring Metrics Publisher
                "app Microsoft.KeyVault/vaults 4633458b-17de-408a-b874-0445c86b69e6 ServicePrincipal", // Key Vault Secrets User
                "app Microsoft.ServiceBus/namespaces 090c5cfd-751d-490a-894a-3ce6f1109419 ServicePrincipal", // Azure Service Bus Data Owner (scaling)
                "app Microsoft.Storage/storageAccounts 0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3 ServicePrincipal", // Storage Table Data Contributor
                "app Microsoft.Storage/storageAccounts 974c5e8b-45b9-4653-ba55-5f855dd0fb88 ServicePrincipal", // Storage Queue Data Contributor
                "app Microsoft.Storage/storageAccounts b7e6dc6d-f1e8-4753-8033-0f276bb0955b ServicePrincipal", // Storage Blob Data Owner
                "deployer Microsoft.KeyVault/vaults b86a8fe4-44ce-4948-aee5-eccb2c155cd7 [parameters('deployerPrincipalType')]", // Key Vault Secrets Officer
            ],
            granted);
    }

    [Fact]
    public void The_app_runs_as_a_user_assigned_identity_whose_roles_exist_before_the_site()
    {
        var functionApp = Arm.Module("functionApp");
        var site = ArmTemplate.Resources(ArmTemplate.Template(functionApp), "Microsoft.Web/sites").Single();

        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Contains(functionApp["dependsOn"]!.AsArray(), d => ((string?)d)!.EndsWith("'roleAssignments')]", StringComparison.Ordinal));
        Assert.Contains("'identity'), '", (string?)Arm.Module("roleAssignments")["properties"]!["parameters"]!["principalId"]!["value"], StringComparison.Ordinal);
        Assert.Equal("[parameters('identityId')]", (string?)site["properties"]!["keyVaultReferenceIdentity"]);
    }

    [Fact]
    public void Each_queue_requires_sessions_exactly_when_its_trigger_enables_them()
    {
        var queues = ArmTemplate.Resources(ArmTemplate.Template(Arm.Module("serviceBus")), "Microsoft.ServiceBus/namespaces/queues")
            .ToDictionary(q => QueueName().Match((string)q["name"]!).Groups["queue"].Value, q => (bool)q["properties"]!["requiresSession"]!);
        const string deadLetter = "/$DeadLetterQueue";
        var all = Triggers<ServiceBusTriggerAttribute>().ToList();
        var triggers = all.Where(t => !t.QueueName!.EndsWith(deadLetter, StringComparison.Ordinal)).ToDictionary(t => t.QueueName!, t => t.IsSessionsEnabled);

        Assert.Equal(triggers.OrderBy(t => t.Key, StringComparer.Ordinal), queues.OrderBy(q => q.Key, StringComparer.Ordinal));
        Assert.True(queues["loop-returns"]);

        // A dead-letter subqueue belongs to a deployed queue and never has sessions, whatever its parent has.
        Assert.All(all.Where(t => t.QueueName!.EndsWith(deadLetter, StringComparison.Ordinal)), t =>
        {
            Assert.True(queues.ContainsKey(t.QueueName![..^deadLetter.Length]), $"{t.QueueName} reads a queue the deployment does not create");
            Assert.False(t.IsSessionsEnabled);
        });
    }

    [Fact]
    public void Each_timer_schedule_setting_is_deployed_and_parses_as_a_six_field_ncrontab()
    {
        var settings = DeployedAppSettings();
        var timers = Triggers<TimerTriggerAttribute>().ToList();

        Assert.Equal(7, timers.Count);
        foreach (var timer in timers)
        {
            var name = timer.Schedule.Trim('%');
            Assert.True(settings.TryGetValue(name, out var schedule), $"infra does not set {name}");
            Assert.NotNull(CrontabSchedule.TryParse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true }));
        }
    }

    private static Dictionary<string, string> DeployedAppSettings()
    {
        var (module, appSettings) = AppSettingsResource();
        return appSettings.ToDictionary(
            p => p.Key,
            p => Arm.Evaluate(module, p.Value) ?? (DeploymentComputed.TryGetValue(p.Key, out var v) ? v : throw new Xunit.Sdk.XunitException($"{p.Key} is computed by the deployment; add its shape to DeploymentComputed.")));
    }

    private static (JsonObject Module, JsonObject Settings) AppSettingsResource()
    {
        var module = Arm.Module("functionApp");
        var config = ArmTemplate.Resources(ArmTemplate.Template(module), "Microsoft.Web/sites/config").Single(r => ((string)r["name"]!).Contains("'appsettings'", StringComparison.Ordinal));
        return (module, config["properties"]!.AsObject());
    }

    private static IEnumerable<T> Triggers<T>()
        where T : Attribute =>
        typeof(Connections).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters())
            .SelectMany(p => p.GetCustomAttributes<T>(false));

    [GeneratedRegex(@"resourceId\('(?<type>[^']+)'")]
    private static partial Regex ScopeType();

    [GeneratedRegex(@"variables\('roles'\)\.(?<role>[A-Za-z]+)")]
    private static partial Regex RoleVariable();

    [GeneratedRegex(@"'(?<queue>[a-z0-9-]+)'\)\]$")]
    private static partial Regex QueueName();
}
