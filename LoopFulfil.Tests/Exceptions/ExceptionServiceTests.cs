using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Exceptions;

/// <summary>Exception records in the real Table Storage emulator (Azurite).</summary>
public class ExceptionServiceTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static ExceptionRaise SkuMissing(string returnId, params string[] skus) =>
        new(ExceptionCategory.SkuNotFound, returnId, $"SKU(s) {string.Join(", ", skus)} not found in Fulfil")
        {
            Skus = skus,
            RawEvent = Utf8($$"""{"topic":"return","trigger":"return.created","id":"{{returnId}}","state":"open","line_items":[{"sku":"{{skus[0]}}"}]}"""),
            Source = "returns-handler",
        };

    private static async Task<List<ExceptionRecord>> ListAsync(ExceptionService service, ExceptionStatus? status = null, ExceptionCategory? category = null)
    {
        var list = new List<ExceptionRecord>();
        await foreach (var r in service.ListAsync(status, category, Ct))
        {
            list.Add(r);
        }

        return list;
    }

    [Fact]
    public async Task Raising_the_same_problem_twice_keeps_one_record_with_two_attempts()
    {
        var h = await ExceptionsHarness.CreateAsync();

        var first = await h.Service.RaiseAsync(SkuMissing("5001", "SKU-B", "SKU-A"), Ct);
        h.Clock.Advance(TimeSpan.FromMinutes(7));
        var second = await h.Service.RaiseAsync(SkuMissing("5001", "SKU-A", "SKU-B"), Ct);

        Assert.Equal(first.Id, second.Id);
        var stored = Assert.Single(await ListAsync(h.Service));
        Assert.Equal(2, stored.Attempts);
        Assert.Equal(h.Clock.GetUtcNow().AddMinutes(-7), stored.FirstSeen);
        Assert.Equal(h.Clock.GetUtcNow(), stored.LastSeen);
        Assert.Equal(["SKU-A", "SKU-B"], stored.Skus);
        Assert.Equal("merchandising", stored.Owner);
        Assert.Equal("5001", stored.ReturnId);
    }

    [Fact]
    public async Task Different_returns_or_details_are_separate_records()
    {
        var h = await ExceptionsHarness.CreateAsync();

        await h.Service.RaiseAsync(SkuMissing("5001", "SKU-A"), Ct);
        await h.Service.RaiseAsync(SkuMissing("5002", "SKU-A"), Ct);
        await h.Service.RaiseAsync(SkuMissing("5001", "SKU-C"), Ct);

        Assert.Equal(3, (await ListAsync(h.Service)).Count);
    }

    [Fact]
    public async Task Every_raise_publishes_an_alert_without_the_raw_event()
    {
        var h = await ExceptionsHarness.CreateAsync(new ExceptionOptions { FlagReturnInLoop = true });

        await h.Service.RaiseAsync(SkuMissing("5001", "SKU-A"), Ct);
        await h.Service.RaiseAsync(SkuMissing("5001", "SKU-A"), Ct);

        var alerts = h.Sender.On(QueueNames.Exceptions);
        Assert.Equal(2, alerts.Count);
        Assert.NotEqual(alerts[0].MessageId, alerts[1].MessageId);
        using var json = JsonDocument.Parse(alerts[1].Body);
        Assert.Equal("SkuNotFound", json.RootElement.GetProperty("category").GetString());
        Assert.Equal("merchandising", json.RootElement.GetProperty("owner").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("attempts").GetInt32());
        Assert.True(json.RootElement.GetProperty("flagReturnInLoop").GetBoolean());
        Assert.DoesNotContain("line_items", Encoding.UTF8.GetString(alerts[1].Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Owners_come_from_configuration_with_defaults_for_the_rest()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Exceptions:Owners:SkuNotFound"] = "catalog-team",
            ["Exceptions:FlagReturnInLoop"] = "true",
            ["Exceptions:SkuRecheckSchedule"] = "0 */5 * * * *",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<ITableStore>(await ExceptionsHarness.CreateIsolatedStoreAsync());
        services.AddSingleton<IBlobStore>(await AzuriteTestServer.CreateBlobStoreAsync());
        services.AddSingleton<IMessageSender, Webhooks.RecordingMessageSender>();
        services.AddLoopFulfilExceptions(configuration);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ExceptionOptions>>().Value;
        var raised = await provider.GetRequiredService<ExceptionService>().RaiseAsync(SkuMissing("6001", "SKU-A"), Ct);

        Assert.Equal("catalog-team", raised.Owner);
        Assert.Equal("finance", options.OwnerOf(ExceptionCategory.AmountMismatch));
        Assert.Equal("merchandising", options.OwnerOf(ExceptionCategory.SkuArchived));
        Assert.Equal("cx", options.OwnerOf(ExceptionCategory.ExchangeOrderFailed));
        Assert.True(options.FlagReturnInLoop);
        Assert.Equal("0 */5 * * * *", options.SkuRecheckSchedule);
    }

    [Fact]
    public async Task Replay_reenqueues_the_raw_event_under_a_fresh_message_id_and_marks_it_replayed()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var raise = SkuMissing("5001", "SKU-A");
        var record = await h.Service.RaiseAsync(raise, Ct);
        var originalMessageId = WebhookIngress.TryBuildMessage(raise.RawEvent, null, null)!.MessageId;

        var first = await h.Service.ReplayAsync(record.Id, Ct);

        Assert.Equal(ReplayOutcome.Replayed, first.Outcome);
        var replayed = Assert.Single(h.Sender.On(QueueNames.LoopReturns));
        Assert.True(raise.RawEvent.Span.SequenceEqual(replayed.Body.Span));
        Assert.Equal("5001", replayed.SessionId);
        Assert.NotEqual(originalMessageId, replayed.MessageId);
        Assert.Equal(originalMessageId, replayed.Properties["dedupeKey"]);
        Assert.Equal(record.Id, replayed.Properties["replayOf"]);
        Assert.Equal(ExceptionStatus.Replayed, (await h.Service.GetAsync(record.Id, Ct))!.Status);

        // It fails again: the record reopens, and the next replay is not a duplicate of the first.
        await h.Service.RaiseAsync(raise, Ct);
        Assert.Equal(ExceptionStatus.Open, (await h.Service.GetAsync(record.Id, Ct))!.Status);
        var second = await h.Service.ReplayAsync(record.Id, Ct);
        Assert.NotEqual(first.MessageId, second.MessageId);
        Assert.Equal(2, second.Record!.ReplayCount);
    }

    [Fact]
    public async Task Replay_without_a_raw_event_or_of_an_unroutable_event_changes_nothing()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var noBody = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.AmountMismatch, "7001", "refund lines sum to 10.00, header says 12.00"), Ct);
        var unknown = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnknownTopic, null, "unknown trigger")
        {
            RawEvent = Utf8("""{"topic":"x","trigger":"x.happened","id":1}"""),
        }, Ct);

        var a = await h.Service.ReplayAsync(noBody.Id, Ct);
        var b = await h.Service.ReplayAsync(unknown.Id, Ct);
        var c = await h.Service.ReplayAsync("SkuNotFound-00000000000000000000000000000000", Ct);

        Assert.Equal(ReplayOutcome.NoRawEvent, a.Outcome);
        Assert.Equal(ReplayOutcome.NotRoutable, b.Outcome);
        Assert.Contains("x.happened", b.Detail, StringComparison.Ordinal);
        Assert.Equal(ReplayOutcome.NotFound, c.Outcome);
        Assert.Empty(h.Sender.On(QueueNames.LoopReturns));
        Assert.All(await ListAsync(h.Service), r => Assert.Equal(ExceptionStatus.Open, r.Status));
    }

    [Fact]
    public async Task Resolve_closes_a_record_and_a_recurrence_reopens_it()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var record = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.FulfilRejected, "8001", "UserError: period closed"), Ct);

        var resolved = await h.Service.ResolveAsync(record.Id, "period reopened by finance", Ct);
        Assert.Equal(ExceptionStatus.Resolved, resolved!.Status);
        Assert.Equal("period reopened by finance", resolved.ResolutionNote);
        Assert.Empty(await ListAsync(h.Service, ExceptionStatus.Open));

        await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.FulfilRejected, "8001", "UserError: period closed"), Ct);
        var reopened = Assert.Single(await ListAsync(h.Service, ExceptionStatus.Open));
        Assert.Equal(2, reopened.Attempts);
        Assert.Null(reopened.ResolvedAt);
    }

    [Fact]
    public async Task List_filters_by_status_and_category()
    {
        var h = await ExceptionsHarness.CreateAsync();
        await h.Service.RaiseAsync(SkuMissing("1", "A"), Ct);
        await h.Service.RaiseAsync(SkuMissing("2", "B"), Ct);
        var finance = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.AmountMismatch, "3", "mismatch"), Ct);
        await h.Service.ResolveAsync(finance.Id, null, Ct);

        Assert.Equal(2, (await ListAsync(h.Service, ExceptionStatus.Open, ExceptionCategory.SkuNotFound)).Count);
        Assert.Empty(await ListAsync(h.Service, ExceptionStatus.Open, ExceptionCategory.AmountMismatch));
        Assert.Single(await ListAsync(h.Service, ExceptionStatus.Resolved));
        Assert.Equal(3, (await ListAsync(h.Service)).Count);
    }

    [Fact]
    public async Task Replay_all_open_of_a_category_replays_only_that_category()
    {
        var h = await ExceptionsHarness.CreateAsync();
        await h.Service.RaiseAsync(SkuMissing("1", "A"), Ct);
        await h.Service.RaiseAsync(SkuMissing("2", "B"), Ct);
        await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.OrderNotFound, "3", "order #1001 not in Fulfil")
        {
            RawEvent = Utf8("""{"topic":"return","trigger":"return.created","id":3,"state":"open"}"""),
        }, Ct);

        var results = await h.Service.ReplayAllOpenAsync(ExceptionCategory.SkuNotFound, Ct);

        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.Equal(ReplayOutcome.Replayed, r.Outcome));
        Assert.Equal(["1", "2"], h.Sender.On(QueueNames.LoopReturns).Select(m => m.SessionId!).Order().ToArray());
        Assert.Single(await ListAsync(h.Service, ExceptionStatus.Open));
    }

    [Theory]
    [InlineData(70_000)]      // two chunks in the record itself
    [InlineData(1_048_576)]   // the webhook limit: chunks spill into an overflow row
    public async Task Large_raw_events_are_stored_in_chunks_and_read_back_exactly(int size)
    {
        var h = await ExceptionsHarness.CreateAsync();
        var body = new byte[size];
        new Random(size).NextBytes(body);

        var record = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnparseableEvent, null, "binary junk") { RawEvent = body }, Ct);
        var read = (await h.Service.GetAsync(record.Id, Ct))!;

        Assert.Equal(size, read.RawEventLength);
        Assert.True(body.AsSpan().SequenceEqual(read.RawEvent.Span));

        // A smaller body on a repeat replaces the large one (and its overflow rows) cleanly.
        var smaller = Utf8("""{"still":"bad" """);
        await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnparseableEvent, null, "binary junk") { RawEvent = smaller }, Ct);
        var again = (await h.Service.GetAsync(record.Id, Ct))!;
        Assert.True(smaller.AsSpan().SequenceEqual(again.RawEvent.Span));
        Assert.Equal(2, again.Attempts);
    }

    [Fact]
    public async Task A_repeat_with_another_event_at_the_webhook_limit_replaces_the_stored_one()
    {
        // The repeat rewrites a record already full of chunks: the update must fit the store's entity limit as the
        // first insert did.
        var h = await ExceptionsHarness.CreateAsync();
        var first = new byte[1_048_576];
        var second = new byte[1_048_576];
        new Random(1).NextBytes(first);
        new Random(2).NextBytes(second);

        var record = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnparseableEvent, "77", "binary junk") { RawEvent = first }, Ct);
        await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnparseableEvent, "77", "binary junk") { RawEvent = second }, Ct);

        var read = (await h.Service.GetAsync(record.Id, Ct))!;
        Assert.Equal(2, read.Attempts);
        Assert.True(second.AsSpan().SequenceEqual(read.RawEvent.Span));
    }

    [Fact]
    public async Task Concurrent_raises_of_one_problem_count_every_attempt_in_one_record()
    {
        var h = await ExceptionsHarness.CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => h.Service.RaiseAsync(SkuMissing("9001", "SKU-A"), Ct)));

        var record = Assert.Single(await ListAsync(h.Service));
        Assert.Equal(6, record.Attempts);
    }
}
