using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Cli;

/// <summary>
/// <c>loopfulfil serve</c> end to end over real HTTP, Azurite queues and tables, and the Loop and Fulfil sandboxes:
/// Loop (the sandbox) signs and sends the webhooks; Fulfil (the sandbox) is where the outcome is read.
/// </summary>
public sealed class ServeHostTests(ServeAzurite azurite) : IClassFixture<ServeAzurite>
{
    [Fact]
    public async Task Serve_sandbox_turns_a_signed_loop_webhook_into_a_return_order_with_its_return_shipment()
    {
        await using var serve = await StartServeAsync(FastSettings(azurite.ConnectionString), "--sandbox");
        var sandbox = serve.Host.Sandbox!;
        var (returnId, json) = ReturnOn1001();

        sandbox.Loop.AddReturn(json, sendCreatedWebhook: true);

        await WaitUntilAsync(() => ReturnOrders(sandbox.Fulfil, returnId).Count == 1, "the return order in Fulfil");
        var delivery = Assert.Single(sandbox.Loop.WebhookDeliveries, d => d.Body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(returnId)) >= 0);
        Assert.Equal(202, delivery.StatusCode);
        Assert.Equal(serve.Host.WebhookUrl, delivery.Url);
        var order = Assert.Single(ReturnOrders(sandbox.Fulfil, returnId));
        Assert.Single(sandbox.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), order.Id)));
        Assert.Contains("Webhook secret  " + sandbox.WebhookSecret, serve.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await serve.StopAsync());
    }

    [Fact]
    public async Task Serve_answers_health_and_guards_the_ops_routes_with_the_admin_key()
    {
        await using var serve = await StartServeAsync(FastSettings(azurite.ConnectionString), "--sandbox");
        using var http = new HttpClient { BaseAddress = serve.Host.BaseAddress };

        using var health = await http.GetAsync(new Uri("api/health", UriKind.Relative));
        var body = await health.Content.ReadFromJsonAsync<JsonElement>();
        using var noKey = await http.GetAsync(new Uri("api/ops/exceptions", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/ops/exceptions?status=open");
        request.Headers.Add(ServeRoutes.AdminKeyHeader, serve.Host.Sandbox!.AdminKey);
        using var withKey = await http.SendAsync(request);
        using var unsigned = await http.PostAsync(new Uri("api/loop/webhooks", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("storageReachable").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal(JsonValueKind.Array, (await withKey.Content.ReadFromJsonAsync<JsonElement>()).ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
    }

    [Fact]
    public async Task Host_stopped_while_a_handler_waits_on_fulfil_then_restarted_handles_the_message_once()
    {
        var settings = FastSettings(azurite.ConnectionString);
        settings["LocalHost:ShutdownGraceSeconds"] = "0";
        settings["LocalHost:VisibilityTimeoutSeconds"] = "30";
        await using var sandbox = await SandboxEnvironment.StartAsync(TextWriter.Null, CancellationToken.None);
        foreach (var (key, value) in sandbox.Settings)
        {
            settings[key] = value;
        }

        var configuration = CliConfiguration.Build(new LoopFulfil.Cli.CliContext(TextWriter.Null, TextWriter.Null) { ReadProcessConfiguration = false, Settings = settings });
        var (returnId, json) = ReturnOn1001(price: 25.00m);
        var log = new StringWriter();
        var first = await ServeHost.StartAsync(configuration, TextWriter.Synchronized(log), sandbox, CancellationToken.None);
        sandbox.SendWebhooksTo(first.WebhookUrl);
        sandbox.Fulfil.Faults.Latency = TimeSpan.FromSeconds(3);

        sandbox.Loop.AddReturn(json, sendCreatedWebhook: true);
        // The return-order step is started and not done: the handler is inside its Fulfil lookup or create (each
        // held 3 s by the injected latency) when the host stops.
        var firstLedger = first.Services.GetRequiredService<ReturnLedger>();
        await WaitUntilAsync(async () => (await firstLedger.GetStepAsync(returnId, ReturnSteps.ReturnOrder, CancellationToken.None))?.Status == StepStatus.Started, "the handler inside the return-order step");
        await first.DisposeAsync();
        sandbox.Fulfil.Faults.Latency = TimeSpan.Zero;

        await using var second = await ServeHost.StartAsync(configuration, TextWriter.Synchronized(log), sandbox, CancellationToken.None);
        var ledger = second.Services.GetRequiredService<ReturnLedger>();
        await WaitUntilAsync(async () => await ledger.IsDoneAsync(returnId, ReturnSteps.ReturnOrder, CancellationToken.None), "the return order step done after restart");
        var queues = second.Services.GetRequiredService<IQueueStore>();
        await WaitUntilAsync(async () => await queues.GetApproximateCountAsync(QueueNames.LoopReturns, CancellationToken.None) == 0, "the queue drained");

        var order = Assert.Single(ReturnOrders(sandbox.Fulfil, returnId));
        var step = await ledger.GetStepAsync(returnId, ReturnSteps.ReturnOrder, CancellationToken.None);
        Assert.Equal(order.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), step!.DocumentId);
        Assert.True(step.Attempts >= 2, $"the step ran {step.Attempts} time(s); the restart should have re-entered it");
        Assert.Single(sandbox.Fulfil.State.Where("stock.shipment.out.return", s => Equals(s.GetValueOrDefault("origin_sale"), order.Id)));
    }

    [Fact]
    public async Task Message_failing_every_attempt_is_parked_as_a_dead_lettered_record_and_an_operator_sees_and_replays_it()
    {
        var settings = FastSettings(azurite.ConnectionString);
        // Fulfil's 503s are transient: rescheduled once after 1 s, then parked on the second attempt.
        settings["Redelivery:MaxAttempts"] = "2";
        settings["Redelivery:BaseDelay"] = "00:00:01";
        await using var serve = await StartServeAsync(settings, "--sandbox");
        var sandbox = serve.Host.Sandbox!;
        var exceptions = serve.Host.Services.GetRequiredService<ExceptionService>();
        var queues = serve.Host.Services.GetRequiredService<IQueueStore>();
        await queues.CreateQueueIfNotExistsAsync(QueueNames.LoopReturns + "-poison", CancellationToken.None);
        var poisonedBefore = await queues.GetApproximateCountAsync(QueueNames.LoopReturns + "-poison", CancellationToken.None);
        var (returnId, json) = ReturnOn1001();
        sandbox.Fulfil.Faults.ErrorRate = 1.0;

        sandbox.Loop.AddReturn(json, sendCreatedWebhook: true);

        ExceptionRecord? record = null;
        await WaitUntilAsync(async () =>
        {
            await foreach (var r in exceptions.ListAsync(ExceptionStatus.Open, ExceptionCategory.DeadLettered, CancellationToken.None))
            {
                record = r.ReturnId == returnId ? r : record;
            }

            return record is not null;
        }, "a DeadLettered exception record");
        sandbox.Fulfil.Faults.ErrorRate = 0;
        Assert.Equal(poisonedBefore, await queues.GetApproximateCountAsync(QueueNames.LoopReturns + "-poison", CancellationToken.None));
        Assert.Contains(MessageRedelivery.AttemptsExhaustedReason, record!.Message, StringComparison.Ordinal);
        Assert.Equal("operations", record!.Owner);
        Assert.True(record.RawEventLength > 0);
        Assert.Empty(ReturnOrders(sandbox.Fulfil, returnId));

        var operator_ = new Dictionary<string, string?> { ["Storage:ConnectionString"] = sandbox.StorageConnectionString };
        var list = await RunAsync(operator_, "exceptions", "list", "--category", "DeadLettered");
        var replay = await RunAsync(operator_, "exceptions", "replay", record.Id);
        await WaitUntilAsync(() => ReturnOrders(sandbox.Fulfil, returnId).Count == 1, "the replayed return's order");
        var show = await RunAsync(operator_, "returns", "show", returnId);

        Assert.Equal(0, list.Code);
        Assert.Contains(record.Id, list.Stdout, StringComparison.Ordinal);
        Assert.Contains("operations", list.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, replay.Code);
        Assert.Contains("Replayed " + record.Id, replay.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, show.Code);
        Assert.Contains(ReturnSteps.ReturnOrder, show.Stdout, StringComparison.Ordinal);
        Assert.Contains(StepStatus.Done, show.Stdout, StringComparison.Ordinal);
        Assert.Contains(Assert.Single(ReturnOrders(sandbox.Fulfil, returnId)).Id.ToString(System.Globalization.CultureInfo.InvariantCulture), show.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_credentials_but_no_webhook_secret_names_the_setting_and_exits_non_zero()
    {
        var settings = FastSettings(azurite.ConnectionString);
        settings["Loop:ApiKey"] = "key";
        settings["Fulfil:ApiKey"] = "key";
        settings["Fulfil:BaseUrl"] = "http://127.0.0.1:9/api/v2";

        var (code, _, stderr) = await RunAsync(settings, "serve");

        Assert.Equal(2, code);
        Assert.Contains("Webhooks__Secret", stderr, StringComparison.Ordinal);
    }
}
