using System.Text.Json;
using System.Text.Json.Nodes;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// Reads the <c>functions.metadata</c> the real Worker SDK generated for LoopFulfil.Functions (copied next to the
/// tests with the project reference) — what the Functions host indexes in Azure — and checks every function's
/// bindings against the deployment's contract: trigger type, queue, sessions, connection setting, data type, auth
/// level, methods and route. The expected rows are written out here, not derived from the attributes.
/// </summary>
public class FunctionsMetadataTests
{
    private const string Bus = "ServiceBusConnection";

    public static TheoryData<string, string> HttpFunctions => new()
    {
        { "Health", "Anonymous|get|health" },
        { "LoopWebhook", "Anonymous|post|loop/webhooks" },
        { "ReturnInspection", "Function|post|returns/{id}/inspection" },
        { "OpsListExceptions", "Admin|get|ops/exceptions" },
        { "OpsGetException", "Admin|get|ops/exceptions/{id}" },
        { "OpsReplayException", "Admin|post|ops/exceptions/{id}/replay" },
        { "OpsResolveException", "Admin|post|ops/exceptions/{id}/resolve" },
        { "OpsPrivacyErase", "Admin|post|ops/privacy/erase" },
        { "OpsReplayCategory", "Admin|post|ops/exceptions/replay" },
        { "OpsReconciliationReport", "Admin|get|ops/reconciliation/{name}" },
    };

    public static TheoryData<string, string, bool> QueueFunctions => new()
    {
        { "LoopReturnEvents", "loop-returns", true },
        { "ExchangeOrders", "loop-exchanges", false },
        { "ExceptionAlerts", "exceptions", false },
        // Dead-letter subqueues never have sessions, even under a session queue.
        { "LoopReturnsDeadLetters", "loop-returns/$DeadLetterQueue", false },
        { "LoopExchangesDeadLetters", "loop-exchanges/$DeadLetterQueue", false },
    };

    public static TheoryData<string, string> TimerFunctions => new()
    {
        { "SkuRecheck", "%SkuRecheckSchedule%" },
        { "Reconciliation", "%ReconciliationSchedule%" },
        { "RefundsPosting", "%RefundsPostingSchedule%" },
        { "CommerceSyncIncremental", "%CommerceSyncIncrementalSchedule%" },
        { "CommerceSyncFullPass", "%CommerceSyncFullPassSchedule%" },
        { "CatchUp", "%CatchUpSchedule%" },
        { "PrivacyRetention", "%PrivacyRetentionSchedule%" },
    };

    [Fact]
    public void Metadata_lists_exactly_the_http_queue_and_timer_functions_of_the_deployment_contract()
    {
        var expected = HttpFunctions.Select(r => (string)r[0]).Concat(QueueFunctions.Select(r => (string)r[0])).Concat(TimerFunctions.Select(r => (string)r[0]));

        Assert.Equal(expected.Order(StringComparer.Ordinal), Metadata().Keys.Order(StringComparer.Ordinal));
        Assert.All(Metadata().Values, f => Assert.Equal("LoopFulfil.Functions.dll", (string?)f["scriptFile"]));
    }

    [Theory]
    [MemberData(nameof(HttpFunctions))]
    public void Http_function_has_its_auth_level_method_route_and_an_http_return(string name, string authMethodRoute)
    {
        var parts = authMethodRoute.Split('|');
        var bindings = Bindings(name);

        var trigger = Trigger(bindings, "httpTrigger");
        Assert.Equal(parts[0], (string?)trigger["authLevel"]);
        Assert.Equal([parts[1]], trigger["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(parts[2], (string?)trigger["route"]);
        Assert.Contains(bindings, b => (string?)b!["type"] == "http" && (string?)b["direction"] == "Out" && (string?)b["name"] == "$return");
    }

    [Theory]
    [MemberData(nameof(QueueFunctions))]
    public void Queue_function_binds_its_queue_sessions_and_connection_as_one_binary_message(string name, string queue, bool sessions)
    {
        var bindings = Bindings(name);

        var trigger = Trigger(bindings, "serviceBusTrigger");
        Assert.Equal(queue, (string?)trigger["queueName"]);
        Assert.Equal(Bus, (string?)trigger["connection"]);
        Assert.Equal("Binary", (string?)trigger["dataType"]);
        Assert.Equal("One", (string?)trigger["cardinality"]);

        // The generator omits false; the host then opens a non-session receiver, which a session queue refuses.
        Assert.Equal(sessions, (bool?)trigger["isSessionsEnabled"] ?? false);
        Assert.Single(bindings);
    }

    [Theory]
    [MemberData(nameof(TimerFunctions))]
    public void Timer_function_reads_its_schedule_from_a_flat_app_setting(string name, string schedule)
    {
        var bindings = Bindings(name);

        Assert.Equal(schedule, (string?)Trigger(bindings, "timerTrigger")["schedule"]);
        Assert.Single(bindings);
    }

    private static JsonObject Trigger(JsonArray bindings, string type) =>
        Assert.Single(bindings, b => ((string?)b!["type"])?.EndsWith("Trigger", StringComparison.Ordinal) == true) is JsonObject trigger
        && (string?)trigger["type"] == type && (string?)trigger["direction"] == "In"
            ? trigger
            : throw new Xunit.Sdk.XunitException($"Expected one {type} binding, found {bindings.ToJsonString()}");

    private static JsonArray Bindings(string name) => Metadata()[name]["bindings"]!.AsArray();

    private static Dictionary<string, JsonObject> Metadata()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: LoopFulfil.Functions is built with Microsoft.Azure.Functions.Worker.Sdk, which writes it.");
        var functions = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true })!.AsArray();
        return functions.Select(f => f!.AsObject()).ToDictionary(f => (string)f["name"]!, StringComparer.Ordinal);
    }
}
