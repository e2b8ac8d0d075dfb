using System.Text.Json.Nodes;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Scheduling;
using LoopFulfil.LocalHost;
using LoopFulfil.LocalHost.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// Both hosts expose the same entry points: what the Functions host indexes (the generated <c>functions.metadata</c>)
/// and what <c>loopfulfil serve</c> binds (its routes, queue dispatchers and timer jobs), each compared with the other
/// and with <see cref="EntryPoints"/>. Dead-letter subqueues are the Functions app's transport; serve's equivalent is
/// its poison queue, which records to the same DeadLetterRecorder.
/// </summary>
public sealed class EntryPointParityTests
{
    [Fact]
    public async Task The_functions_app_and_serve_expose_the_same_routes_queues_and_timers()
    {
        var metadata = FunctionsMetadata();
        var functionsRoutes = Triggers(metadata, "httpTrigger").Select(t => $"{((string)t["methods"]![0]!).ToUpperInvariant()} api/{(string)t["route"]!}").ToHashSet();
        var functionsQueues = Triggers(metadata, "serviceBusTrigger").Select(t => (string)t["queueName"]!).Where(q => !q.EndsWith("/$DeadLetterQueue", StringComparison.Ordinal)).ToHashSet();
        var functionsTimers = metadata.Where(f => Triggers(f.Value).Any(t => (string?)t["type"] == "timerTrigger"))
            .Select(f => $"{f.Key} {((string)Triggers(f.Value).Single()["schedule"]!).Trim('%')}").ToHashSet();

        // A distinct second in each flat setting shows which setting each serve job was scheduled from.
        var settings = EntryPoints.Timers.Select((t, i) => (t.ScheduleSetting, Schedule: $"{i + 1} 0 4 * * *")).ToList();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>(s.ScheduleSetting, s.Schedule))
                .Append(new("LocalHost:Urls", "http://127.0.0.1:0"))).Build();
        var builder = ServeHost.CreateBuilder(configuration, TextWriter.Null);
        builder.Services.AddLoopFulfilServe(configuration);
        await using var app = builder.Build();
        ServeRoutes.Map(app);

        var serveRoutes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText!.TrimStart('/')}"))
            .ToHashSet();
        var serveQueues = app.Services.GetServices<IHostedService>().OfType<QueueDispatcher>().Select(d => d.Queue).ToHashSet();
        var serveTimers = app.Services.GetServices<TimerJob>().Where(j => j.Name != LocalHostServiceCollectionExtensions.DedupePruneJobName)
            .Select(j => $"{j.Name} {settings.Single(s => s.Schedule == j.Schedule.Expression).ScheduleSetting}").ToHashSet();

        Assert.Equal(functionsRoutes.Order(StringComparer.Ordinal), serveRoutes.Order(StringComparer.Ordinal));
        Assert.Equal(functionsQueues.Order(StringComparer.Ordinal), serveQueues.Order(StringComparer.Ordinal));
        Assert.Equal(functionsTimers.Order(StringComparer.Ordinal), serveTimers.Order(StringComparer.Ordinal));

        // And both are the list, so neither host can add an entry point the other lacks.
        Assert.Equal(EntryPoints.Http.Select(h => $"{h.Method.ToUpperInvariant()} api/{h.Route}").Order(StringComparer.Ordinal), functionsRoutes.Order(StringComparer.Ordinal));
        Assert.Equal(EntryPoints.Queues.Select(q => q.Queue).Order(StringComparer.Ordinal), functionsQueues.Order(StringComparer.Ordinal));
        Assert.Equal(EntryPoints.Timers.Select(t => $"{t.Function} {t.ScheduleSetting}").Order(StringComparer.Ordinal), functionsTimers.Order(StringComparer.Ordinal));
        Assert.All(EntryPoints.Http, h => Assert.Equal(h.Auth.ToString(), (string?)Triggers(metadata[h.Function]).Single()["authLevel"]));
        Assert.All(EntryPoints.Queues, q => Assert.Equal(q.Sessions, (bool?)Triggers(metadata[q.Function]).Single()["isSessionsEnabled"] ?? false));
    }

    [Fact]
    public void A_feature_option_that_disagrees_with_the_flat_schedule_setting_stops_both_hosts_at_start()
    {
        IConfiguration agreeing = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReconciliationSchedule"] = "0 0 5 * * *",
            ["Reconciliation:Schedule"] = "0 0 5 * * *",
        }).Build();
        IConfiguration disagreeing = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReconciliationSchedule"] = "0 0 5 * * *",
            ["Reconciliation:Schedule"] = "0 0 6 * * *",
        }).Build();

        Assert.Empty(EntryPointServiceCollectionExtensions.TimerScheduleProblems(agreeing));
        var problem = Assert.Single(EntryPointServiceCollectionExtensions.TimerScheduleProblems(disagreeing));
        Assert.Contains("Reconciliation__Schedule", problem, StringComparison.Ordinal);
        Assert.Contains("ReconciliationSchedule", problem, StringComparison.Ordinal);
        Assert.Equal("0 0 5 * * *", EntryPoints.Schedule(EntryPoints.Timer("Reconciliation"), disagreeing));
    }

    private static IEnumerable<JsonObject> Triggers(Dictionary<string, JsonObject> metadata, string type) =>
        metadata.Values.SelectMany(Triggers).Where(t => (string?)t["type"] == type);

    private static IEnumerable<JsonObject> Triggers(JsonObject function) =>
        function["bindings"]!.AsArray().Select(b => b!.AsObject()).Where(b => ((string?)b["type"])?.EndsWith("Trigger", StringComparison.Ordinal) == true);

    private static Dictionary<string, JsonObject> FunctionsMetadata()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: LoopFulfil.Functions is built with Microsoft.Azure.Functions.Worker.Sdk, which writes it.");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray().Select(f => f!.AsObject()).ToDictionary(f => (string)f["name"]!, StringComparer.Ordinal);
    }
}
