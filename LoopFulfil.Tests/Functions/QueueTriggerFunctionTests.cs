using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Hosting;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Redelivery;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Functions;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.LocalHost;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Returns;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// The Service Bus triggers as plain classes: binding data to <see cref="InboundMessage"/>, and each function over
/// its real Core handler (Azurite, and the Loop and Fulfil sandboxes over loopback HTTP).
/// </summary>
public class QueueTriggerFunctionTests
{
    private static readonly byte[] Body = "{\"id\":\"88001\"}"u8.ToArray();

    [Fact]
    public void Binding_data_with_properties_as_a_json_string_maps_to_the_inbound_message()
    {
        var data = TestFunctionContext.ForServiceBus(
            "abc123", "88001", deliveryCount: 3,
            applicationProperties: """{"trigger":"return.created","returnId":"88001","attempt":2,"flag":true,"none":null}""").BindingContext.BindingData;

        var message = ServiceBusBindingData.ToInboundMessage(Body, data);

        Assert.Equal("abc123", message.MessageId);
        Assert.Equal("88001", message.SessionId);
        Assert.Equal(3, message.DeliveryCount);
        Assert.True(message.Body.Span.SequenceEqual(Body));
        Assert.Equal("return.created", message.Properties["trigger"]);
        Assert.Equal("88001", message.Properties["returnId"]);
        Assert.Equal("2", message.Properties["attempt"]);
        Assert.Equal("true", message.Properties["flag"]);
        Assert.False(message.Properties.ContainsKey("none"));
    }

    [Fact]
    public void Binding_data_with_properties_as_a_dictionary_and_counts_as_text_maps_the_same()
    {
        var properties = new Dictionary<string, object?> { ["trigger"] = "return.created", ["attempt"] = 2L, ["ratio"] = 0.5m, ["flag"] = true };
        var data = TestFunctionContext.ForServiceBus("abc123", sessionId: null, deliveryCount: "4", applicationProperties: properties).BindingContext.BindingData;

        var message = ServiceBusBindingData.ToInboundMessage(Body, data);

        Assert.Null(message.SessionId);
        Assert.Equal(4, message.DeliveryCount);
        Assert.Equal("return.created", message.Properties["trigger"]);
        Assert.Equal("2", message.Properties["attempt"]);
        Assert.Equal("0.5", message.Properties["ratio"]);
        Assert.Equal("true", message.Properties["flag"]);
    }

    [Fact]
    public void Binding_data_values_as_json_elements_are_read_too()
    {
        using var doc = JsonDocument.Parse("""{"MessageId":"m-1","SessionId":"77","DeliveryCount":2,"ApplicationProperties":"{\"trigger\":\"label.created\"}"}""");
        var data = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

        var message = ServiceBusBindingData.ToInboundMessage(Body, data);

        Assert.Equal("m-1", message.MessageId);
        Assert.Equal("77", message.SessionId);
        Assert.Equal(2, message.DeliveryCount);
        Assert.Equal("label.created", message.Properties["trigger"]);
    }

    [Fact]
    public void Binding_data_without_a_message_id_is_refused_loudly()
    {
        var data = new Dictionary<string, object?> { ["SessionId"] = "88001", ["DeliveryCount"] = 1 };

        var thrown = Assert.Throws<InvalidOperationException>(() => ServiceBusBindingData.ToInboundMessage(Body, data));

        Assert.Contains("MessageId", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Return_event_delivered_as_service_bus_would_runs_the_returns_handler_to_a_fulfil_return_order()
    {
        await using var h = await ReturnsHarness.StartAsync();
        var r = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "21001");
        var webhook = r.Webhook("return.created");
        var captured = new RecordingMessageSender();
        var accepted = await h.Services.GetRequiredService<WebhookIngress>()
            .HandleAndSendAsync(IngressHarness.Request(webhook, WebhookTestKit.Sign(webhook)), captured, CancellationToken.None);
        Assert.Equal(202, accepted.StatusCode);
        var sent = Assert.Single(captured.Sent);

        // What the trigger gets: the body bytes, and the message's metadata as binding data (properties as JSON text).
        var context = TestFunctionContext.ForServiceBus(sent.MessageId, sent.SessionId, 1, JsonSerializer.Serialize(sent.Properties));
        await using var scope = h.Services.CreateAsyncScope();
        context.InstanceServices = scope.ServiceProvider;
        var function = new ReturnEventsFunction(Runner(scope.ServiceProvider));

        await function.Run(sent.Body.ToArray(), context);

        Assert.Single(h.ReturnOrders(r.ReturnId));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Alert_raised_by_the_returns_handler_is_logged_but_not_flagged_a_second_time()
    {
        await using var h = await ReturnsHarness.StartAsync(flagReturnInLoop: true);
        var r = LoopReturnBuilder.ForDemoSale("#9996").WithoutProviderOrderId().WithUnits(Demo.TeeM, 1, 25.00m, "21002").AddTo(h.Loop);
        await h.SendAsync(r.Webhook("return.created"));
        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));
        var alert = Assert.Single(h.Bus.OtherQueues, m => m.Queue == QueueNames.Exceptions);
        var logger = new StructuredLogger<ExceptionAlertHandler>();
        var function = new ExceptionsFunction(Runner(h.Services));
        var context = AlertContext(alert, deliveryCount: 1);
        await using var invocation = new ServiceCollection().AddSingleton(AlertHandler(h.Services, logger, flag: true)).BuildServiceProvider();
        context.InstanceServices = invocation;

        await function.Run(alert.Body.ToArray(), context);

        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));
        Assert.Single(h.Loop.GetNotes(r.ReturnId));
        var logged = Assert.Single(logger.Entries, e => e.Properties.ContainsKey("ExceptionCategory"));
        Assert.Equal(ExceptionCategory.OrderNotFound, logged.Properties["ExceptionCategory"]);
    }

    [Fact]
    public async Task Alert_for_a_parked_webhook_flags_the_return_once_with_a_note_even_when_redelivered()
    {
        await using var h = await ReturnsHarness.StartAsync(flagReturnInLoop: true);
        var r = LoopReturnBuilder.ForDemoSale("#9995").WithoutProviderOrderId().WithUnits(Demo.TeeM, 1, 25.00m, "21003").AddTo(h.Loop);
        var record = await h.Exceptions.RaiseAsync(
            new ExceptionRaise(ExceptionCategory.UnknownTopic, r.ReturnId, "Signed webhook has a trigger this integration does not route: 'shipment.processed'.")
            {
                Source = "webhook:shipment.processed",
            },
            CancellationToken.None);
        var alert = Assert.Single(h.Bus.OtherQueues, m => m.Queue == QueueNames.Exceptions);
        var logger = new StructuredLogger<ExceptionAlertHandler>();
        var handler = AlertHandler(h.Services, logger, flag: true);

        var first = await handler.HandleAsync(ServiceBusBindingData.ToInboundMessage(alert.Body, AlertContext(alert, 1).BindingContext.BindingData), CancellationToken.None);
        var again = await handler.HandleAsync(ServiceBusBindingData.ToInboundMessage(alert.Body, AlertContext(alert, 2).BindingContext.BindingData), CancellationToken.None);

        Assert.Equal(ExceptionAlertOutcome.Flagged, first);
        Assert.Equal(ExceptionAlertOutcome.AlreadyFlagged, again);
        Assert.Equal(1, h.Loop.FlagCount(r.ReturnId));
        var note = Assert.Single(h.Loop.GetNotes(r.ReturnId));
        Assert.Contains(record.Id, note, StringComparison.Ordinal);
        Assert.Contains(nameof(ExceptionCategory.UnknownTopic), note, StringComparison.Ordinal);

        // Counted once for the alert rules although delivered twice.
        Assert.Single(logger.Entries, e => e.Properties.ContainsKey("ExceptionCategory"));
    }

    [Fact]
    public async Task A_claim_checked_alert_on_the_exceptions_queue_is_resolved_before_its_handler_runs()
    {
        await using var h = await ReturnsHarness.StartAsync(flagReturnInLoop: false);
        await h.Exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnknownTopic, "21005", "Unrouted trigger.") { Source = "webhook" }, CancellationToken.None);
        var alert = Assert.Single(h.Bus.OtherQueues, m => m.Queue == QueueNames.Exceptions);

        // What the Service Bus sender does with a large body on any queue: store it, send the reference only.
        var claims = new ClaimCheck(h.Services.GetRequiredService<IBlobStore>(), TimeProvider.System);
        var reference = await claims.StoreAsync("alert-21005", alert.Body, CancellationToken.None);
        var properties = new Dictionary<string, object?>(alert.Properties.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))) { [ClaimCheck.ReferenceProperty] = reference };
        var context = TestFunctionContext.ForServiceBus(alert.MessageId, null, 1, properties);
        var logger = new StructuredLogger<ExceptionAlertHandler>();
        await using var invocation = new ServiceCollection().AddSingleton(AlertHandler(h.Services, logger, flag: false)).BuildServiceProvider();
        context.InstanceServices = invocation;

        await new ExceptionsFunction(Runner(h.Services)).Run([], context);

        var logged = Assert.Single(logger.Entries, e => e.Properties.ContainsKey("ExceptionCategory"));
        Assert.Equal(ExceptionCategory.UnknownTopic, logged.Properties["ExceptionCategory"]);
    }

    [Fact]
    public async Task With_flagging_off_the_alert_is_only_logged_and_loop_is_not_called()
    {
        await using var h = await ReturnsHarness.StartAsync(flagReturnInLoop: true);
        var r = LoopReturnBuilder.ForDemoSale("#9994").WithoutProviderOrderId().WithUnits(Demo.TeeM, 1, 25.00m, "21004").AddTo(h.Loop);
        await h.Exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnknownTopic, r.ReturnId, "Unrouted trigger.") { Source = "webhook" }, CancellationToken.None);
        var alert = Assert.Single(h.Bus.OtherQueues, m => m.Queue == QueueNames.Exceptions);
        var loopCallsBefore = h.Loop.Requests.Count;

        var outcome = await AlertHandler(h.Services, new StructuredLogger<ExceptionAlertHandler>(), flag: false)
            .HandleAsync(ServiceBusBindingData.ToInboundMessage(alert.Body, AlertContext(alert, 1).BindingContext.BindingData), CancellationToken.None);

        Assert.Equal(ExceptionAlertOutcome.Logged, outcome);
        Assert.Equal(loopCallsBefore, h.Loop.Requests.Count);
        Assert.Empty(h.Loop.GetNotes(r.ReturnId));
    }

    [Fact]
    public async Task A_body_that_is_not_an_alert_completes_without_retrying()
    {
        var handler = new ExceptionAlertHandler(NotCalled<Core.Loop.ILoopClient>.Create(), new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions { FlagReturnInLoop = true }), new StructuredLogger<ExceptionAlertHandler>());

        var outcome = await handler.HandleAsync(new InboundMessage("not json"u8.ToArray(), "m-1", null, 1, new Dictionary<string, string>()), CancellationToken.None);

        Assert.Equal(ExceptionAlertOutcome.Unreadable, outcome);
    }

    [Fact]
    public void Queue_triggers_bind_their_queues_with_the_shared_connection_and_sessions_only_on_loop_returns()
    {
        var returns = TriggerOf(typeof(ReturnEventsFunction));
        var exceptions = TriggerOf(typeof(ExceptionsFunction));

        Assert.Equal(QueueNames.LoopReturns, returns.QueueName);
        Assert.True(returns.IsSessionsEnabled);
        Assert.Equal(QueueNames.Exceptions, exceptions.QueueName);
        Assert.False(exceptions.IsSessionsEnabled);
        Assert.All([returns, exceptions], t => Assert.Equal(Connections.ServiceBus, t.Connection));
        Assert.All([returns, exceptions], t => Assert.False(t.IsBatched));
    }

    private static ServiceBusTriggerAttribute TriggerOf(Type functionType) =>
        functionType.GetMethod("Run")!.GetParameters()
            .SelectMany(p => p.GetCustomAttributes(typeof(ServiceBusTriggerAttribute), false).Cast<ServiceBusTriggerAttribute>())
            .Single();

    private static TestFunctionContext AlertContext(OutboundMessage alert, int deliveryCount) =>
        TestFunctionContext.ForServiceBus(alert.MessageId, alert.SessionId, deliveryCount, new Dictionary<string, object?>(alert.Properties.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))));

    /// <summary>What every queue function runs through: claim-check resolution, then <see cref="Redelivery"/>.</summary>
    internal static QueueEntryRunner Runner(IServiceProvider services) =>
        new(new ClaimCheck(services.GetRequiredService<IBlobStore>(), TimeProvider.System), Redelivery(services));

    /// <summary>The functions' backoff wrapper over the harness's sender and exception records.</summary>
    internal static MessageRedelivery Redelivery(IServiceProvider services) => new(
        services.GetRequiredService<IMessageSender>(),
        new DeadLetterRecorder(services.GetRequiredService<ExceptionService>(), new ClaimCheck(services.GetRequiredService<IBlobStore>(), TimeProvider.System), NullLogger<DeadLetterRecorder>.Instance),
        new FixedOptionsMonitor<RedeliveryOptions>(new RedeliveryOptions()),
        TimeProvider.System,
        NullLogger<MessageRedelivery>.Instance);

    private static ExceptionAlertHandler AlertHandler(IServiceProvider services, StructuredLogger<ExceptionAlertHandler> logger, bool flag) =>
        new(services.GetRequiredService<Core.Loop.ILoopClient>(), new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions { FlagReturnInLoop = flag }), logger);
}
