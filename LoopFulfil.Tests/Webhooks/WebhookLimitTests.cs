using System.Text;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Exceptions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// Nothing accepted is unstorable: the webhook's accept limit is what storage keeps whole, and a signed body over it
/// is refused with 413 and leaves a record ops can see (without the body).
/// </summary>
public class WebhookLimitTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The return.created fixture padded with a long note to exactly <paramref name="length"/> bytes.</summary>
    private static byte[] ReturnCreatedOfLength(int length)
    {
        var fixture = Encoding.UTF8.GetString(Fixture("return-created.json")).TrimEnd();
        var head = string.Concat(fixture.AsSpan(0, fixture.LastIndexOf('}')), ",\"note\":\"");
        const string tail = "\"}";
        var body = Encoding.UTF8.GetBytes(head + new string('n', length - Encoding.UTF8.GetByteCount(head) - tail.Length) + tail);
        Assert.Equal(length, body.Length);
        return body;
    }

    private static ExceptionService Exceptions(ITableStore store, IBlobStore blobs) =>
        new(store, blobs, new RecordingMessageSender(), new FixedOptionsMonitor<ExceptionOptions>(new ExceptionOptions()), new FakeTimeProvider(Now), NullLogger<ExceptionService>.Instance);

    [Fact]
    public async Task Body_of_exactly_the_webhook_limit_is_queued_and_the_ledger_and_exception_records_store_it_whole()
    {
        var limit = new WebhookOptions().MaxBodyBytes;
        var body = ReturnCreatedOfLength(limit);
        using var ingress = IngressHarness.Create(new NoStorageAllowed());
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var blobs = await LoopFulfil.Tests.Infrastructure.AzuriteTestServer.CreateBlobStoreAsync();
        var ledger = new ReturnLedger(store, blobs, new FakeTimeProvider(Now));
        var exceptions = Exceptions(store, blobs);

        var accepted = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);
        var message = Assert.IsType<OutboundMessage>(accepted.Message);
        var decision = await ledger.AdvanceSnapshotAsync("6042537", Now, "open", message.Body, Ct);
        var snapshot = await ledger.GetSnapshotAsync("6042537", Ct);
        await ledger.RecordEventAsync("6042537", "label.updated", "k", Now, message.Body, Ct);
        var parked = await exceptions.RaiseAsync(new ExceptionRaise(ExceptionCategory.UnparseableEvent, "6042537", "stored whole") { RawEvent = message.Body }, Ct);

        var recorded = Assert.Single(await ledger.GetEventsAsync("6042537", "label.updated", Ct));
        var stored = (await exceptions.GetAsync(parked.Id, Ct))!;

        Assert.Equal(202, accepted.Response.StatusCode);
        Assert.Equal(SnapshotDecision.Applied, decision);
        Assert.Equal(body, snapshot!.Body);
        Assert.Equal(body, recorded.Body);
        Assert.Equal(body, stored.RawEvent.ToArray());
    }

    [Fact]
    public async Task Signed_body_one_byte_over_the_limit_is_413_and_leaves_an_exception_record_without_the_body()
    {
        var limit = new WebhookOptions().MaxBodyBytes;
        var body = ReturnCreatedOfLength(limit + 1);
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        using var ingress = IngressHarness.Create(store);
        var exceptions = Exceptions(store, new NoBlobsAllowed());

        var declared = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body)), Ct);
        var undeclared = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body), declareLength: false), Ct);

        Assert.Equal((413, 413), (declared.Response.StatusCode, undeclared.Response.StatusCode));
        Assert.Equal("body_too_large", declared.Response.Reason);
        Assert.Null(declared.Message);
        var records = new List<ExceptionRecord>();
        await foreach (var r in exceptions.ListAsync(null, null, Ct))
        {
            records.Add(r);
        }

        // Loop's retry of the same body bumps the one record.
        var record = Assert.Single(records);
        Assert.Equal(ExceptionCategory.EventTooLarge, record.Category);
        Assert.Equal("operations", record.Owner);
        Assert.Equal("6042537", record.ReturnId);
        Assert.Equal(2, record.Attempts);
        Assert.Contains((limit + 1).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes", record.Message, StringComparison.Ordinal);
        Assert.Contains("'return.created'", record.Message, StringComparison.Ordinal);
        Assert.Contains("topic 'return'", record.Message, StringComparison.Ordinal);
        Assert.Equal(0, record.RawEventLength);
        Assert.Equal(0, (await exceptions.GetAsync(record.Id, Ct))!.RawEvent.Length);
    }

    [Fact]
    public async Task Oversize_body_with_a_wrong_signature_is_refused_and_leaves_no_record()
    {
        var body = ReturnCreatedOfLength(new WebhookOptions().MaxBodyBytes + 10);
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        using var ingress = IngressHarness.Create(store);

        var result = await ingress.HandleAsync(IngressHarness.Request(body, Sign(body, "not-the-secret")), Ct);

        Assert.Equal(401, result.Response.StatusCode);
        await foreach (var _ in Exceptions(store, new NoBlobsAllowed()).ListAsync(null, null, Ct))
        {
            Assert.Fail("a forged oversize body must not leave an exception record");
        }
    }

    [Fact]
    public void Webhook_limit_above_what_storage_keeps_is_refused_at_start()
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:Secret"] = Secret,
            ["Webhooks:MaxBodyBytes"] = (StorageLimits.MaxEventBodyBytes + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        services.AddLoopFulfilWebhooks(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WebhookOptions>>().Value);

        Assert.Contains("Webhooks:MaxBodyBytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(StorageLimits.MaxEventBodyBytes, new WebhookOptions().MaxBodyBytes);
    }
}
