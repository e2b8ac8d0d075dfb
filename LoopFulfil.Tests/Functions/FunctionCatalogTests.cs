using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Scheduling;
using LoopFulfil.Functions;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Functions.Telemetry;
using LoopFulfil.Tests.Configuration;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// Checks over every function the app declares, the things the Functions host would only reject at start-up (or
/// silently get wrong) in Azure: names, reserved routes, queues, connection and schedule settings, and that each
/// function can be built from the composition Program.cs uses.
/// </summary>
public partial class FunctionCatalogTests
{
    private static readonly Assembly FunctionsAssembly = typeof(Connections).Assembly;

    private static IReadOnlyList<(MethodInfo Method, string Name)> Functions() =>
    [
        .. FunctionsAssembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<FunctionAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Method, x.Attribute!.Name)),
    ];

    private static IEnumerable<T> Triggers<T>()
        where T : Attribute =>
        Functions().SelectMany(f => f.Method.GetParameters()).SelectMany(p => p.GetCustomAttributes<T>(false));

    [Fact]
    public void The_app_declares_the_expected_functions_each_name_once()
    {
        var names = Functions().Select(f => f.Name).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(
            ["CatchUp", "CommerceSyncFullPass", "CommerceSyncIncremental", "ExceptionAlerts", "ExchangeOrders", "Health", "LoopExchangesDeadLetters", "LoopReturnEvents", "LoopReturnsDeadLetters", "LoopWebhook", "OpsGetException", "OpsListExceptions", "OpsPrivacyErase", "OpsReconciliationReport", "OpsReplayCategory", "OpsReplayException", "OpsResolveException", "PrivacyRetention", "Reconciliation", "RefundsPosting", "ReturnInspection", "SkuRecheck"],
            names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void No_function_name_or_route_uses_a_prefix_the_host_reserves()
    {
        string[] reserved = ["admin", "runtime"];

        Assert.DoesNotContain(Functions(), f => reserved.Any(r => f.Name.StartsWith(r, StringComparison.OrdinalIgnoreCase)));
        Assert.DoesNotContain(Triggers<HttpTriggerAttribute>(), t => reserved.Any(r => (t.Route ?? string.Empty).TrimStart('/').StartsWith(r, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void Every_service_bus_trigger_names_a_declared_queue_and_the_configured_connection()
    {
        string[] queues = [.. typeof(QueueNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!)];
        var serviceBusBicep = File.ReadAllText(Path.Combine(RepoRoot(), "infra", "modules", "serviceBus.bicep"));
        var sample = SampleSettings();
        var bicepKeys = BicepKeys();

        var triggers = Triggers<ServiceBusTriggerAttribute>().ToList();

        // Three queues, and the dead-letter subqueues of the two work queues.
        Assert.Equal(5, triggers.Count);
        Assert.Equal(2, triggers.Count(t => t.QueueName!.EndsWith(DeadLetterFunctions.DeadLetterSuffix, StringComparison.Ordinal)));
        foreach (var trigger in triggers)
        {
            var queue = trigger.QueueName!.Replace(DeadLetterFunctions.DeadLetterSuffix, string.Empty, StringComparison.Ordinal);
            Assert.Contains(queue, queues);
            Assert.Contains($"name: '{queue}'", serviceBusBicep, StringComparison.Ordinal);
            Assert.Equal(Connections.ServiceBus, trigger.Connection);
        }

        Assert.Contains(Connections.ServiceBus, sample.Keys);
        Assert.Contains($"{Connections.ServiceBus}__fullyQualifiedNamespace", bicepKeys);
    }

    [Fact]
    public void Every_timer_schedule_is_a_flat_app_setting_present_locally_and_in_azure_with_a_valid_value()
    {
        var sample = SampleSettings();
        var bicepKeys = BicepKeys();
        var timers = Triggers<TimerTriggerAttribute>().ToList();

        Assert.NotEmpty(timers);
        foreach (var timer in timers)
        {
            var expression = AppSettingExpression().Match(timer.Schedule);
            Assert.True(expression.Success, $"{timer.Schedule}: schedules come from app settings (%Name%), so each environment can set its own.");
            var name = expression.Groups["name"].Value;

            // ':' and '__' do not resolve for the scale controller / the host (see Schedules).
            Assert.DoesNotContain(":", name, StringComparison.Ordinal);
            Assert.DoesNotContain("__", name, StringComparison.Ordinal);
            Assert.True(sample.ContainsKey(name), $"local.settings.sample.json lacks {name}");
            Assert.Contains(name, bicepKeys);
            CronExpression.Parse(sample[name]);
        }

        Assert.Equal(sample["Exceptions__SkuRecheckSchedule"], sample["SkuRecheckSchedule"]);
        Assert.Equal(sample["Reconciliation__Schedule"], sample["ReconciliationSchedule"]);
        Assert.Equal(sample["Refunds__PostingSchedule"], sample["RefundsPostingSchedule"]);
        Assert.Equal(sample["CommerceSync__IncrementalSchedule"], sample["CommerceSyncIncrementalSchedule"]);
        Assert.Equal(sample["CommerceSync__FullPassSchedule"], sample["CommerceSyncFullPassSchedule"]);
        Assert.Equal(sample["CatchUp__Schedule"], sample["CatchUpSchedule"]);
    }

    [Fact]
    public void Every_function_class_is_built_from_the_program_composition_with_valid_sample_settings()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(SampleSettings().Select(p => new KeyValuePair<string, string?>(p.Key.Replace("__", ":", StringComparison.Ordinal), p.Value)))

            // The one placeholder that is not a valid value as it stands, filled in as a developer would.
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Fulfil:BaseUrl"] = "https://acme.fulfil.io/api/v2/" })
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddLoopFulfil(configuration);
        services.AddLoopFulfilServiceBusSender(configuration);
        services.AddLoopFulfilTelemetry(configuration);

        // The real sender would open an AMQP connection; everything else is what Program.cs registers.
        services.AddSingleton<IMessageSender>(new RecordingMessageSender());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        using var scope = provider.CreateScope();

        foreach (var type in Functions().Select(f => f.Method.DeclaringType!).Distinct())
        {
            Assert.NotNull(ActivatorUtilities.CreateInstance(scope.ServiceProvider, type));
        }

        foreach (var options in SettingsDriftTests.DiscoverOptionsTypes().Where(t => t != typeof(LoopFulfil.LocalHost.LocalHostOptions)))
        {
            // Reading Value runs the feature's validation: the sample must start a host.
            var accessor = provider.GetRequiredService(typeof(IOptions<>).MakeGenericType(options));
            Assert.NotNull(accessor.GetType().GetProperty("Value")!.GetValue(accessor));
        }

        Assert.True(provider.GetRequiredService<ServiceBusConnectionSettings>() is { UsesIdentity: false, ConnectionString: not null });
    }

    private static Dictionary<string, string> SampleSettings()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "local.settings.sample.json")));
        return json.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);
    }

    private static HashSet<string> BicepKeys() =>
        [.. BicepKey().Matches(File.ReadAllText(Path.Combine(RepoRoot(), "infra", "modules", "functionApp.bicep"))).Select(m => m.Groups["key"].Value)];

    [GeneratedRegex(@"^%(?<name>[^%]+)%$")]
    private static partial Regex AppSettingExpression();

    [GeneratedRegex(@"^\s*'?(?<key>[A-Za-z_][A-Za-z0-9_]*)'?\s*:", RegexOptions.Multiline)]
    private static partial Regex BicepKey();

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
}
