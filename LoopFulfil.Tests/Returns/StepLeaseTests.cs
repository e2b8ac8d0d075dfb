using System.Collections.Concurrent;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Returns;

/// <summary>
/// The ledger step's lease on real Azurite: workers are driven one after another by gates (no sleeps), the clock is a
/// <see cref="FakeTimeProvider"/>, and the "remote side" counts every create it receives.
/// </summary>
public sealed class StepLeaseTests
{
    private const string Step = "exchange-order:EXC";
    private static readonly TimeSpan Lease = new ReturnsOptions().StepLeaseDuration;

    [Fact]
    public async Task Two_workers_on_one_step_create_one_document_and_the_second_backs_off_as_transient()
    {
        (var ledger, _, _) = await LedgerAsync();
        var remote = new Remote();
        var returnId = NewReturnId();
        var firstInCreate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Worker 1 looks up (nothing), starts creating and is paused inside the create call.
        var first = ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, async ct =>
        {
            firstInCreate.SetResult();
            await releaseFirst.Task;
            return remote.Create("first");
        }, CancellationToken.None);
        await firstInCreate.Task;

        // Worker 2 comes for the same step while worker 1's create is in flight.
        var second = await Record.ExceptionAsync(() => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("second")), CancellationToken.None));
        releaseFirst.SetResult();
        var done = await first;

        Assert.Equal(1, remote.Creates);
        Assert.IsAssignableFrom<TransientIntegrationException>(second);
        Assert.True(done.Created);
        var step = await ledger.GetStepAsync(returnId, Step, CancellationToken.None);
        Assert.Equal(StepStatus.Done, step!.Status);
        Assert.Equal("first", step.DocumentId);
    }

    [Fact]
    public async Task A_live_lease_gives_the_next_worker_a_transient_error_carrying_the_time_left()
    {
        (var ledger, var clock, _) = await LedgerAsync();
        var remote = new Remote();
        var returnId = NewReturnId();
        var inCreate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hang = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ =>
        {
            inCreate.SetResult();
            return hang.Task;
        }, CancellationToken.None);
        await inCreate.Task;

        clock.Advance(TimeSpan.FromMinutes(1));
        var backedOff = await Assert.ThrowsAnyAsync<TransientIntegrationException>(
            () => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("second")), CancellationToken.None));

        Assert.Equal(Lease - TimeSpan.FromMinutes(1), backedOff.RetryAfter);
        Assert.Equal(0, remote.Creates);
        hang.SetException(new TransientIntegrationException("the holder's call failed"));
        await Assert.ThrowsAsync<TransientIntegrationException>(() => holder);
    }

    /// <summary>Failures of a create that may leave it running on the server (kept) and that prove it ended (released).</summary>
    public static TheoryData<string, bool> CreateFailures() => new()
    {
        { "timeout", true },
        { "connection-lost", true },
        { "cancelled", true },
        { "connection-refused", false },
        { "http-answer", false },
    };

    [Theory]
    [MemberData(nameof(CreateFailures))]
    public async Task A_create_that_may_still_be_running_on_the_server_keeps_its_lease_and_one_that_ended_releases_it(string failure, bool keeps)
    {
        (var ledger, _, _) = await LedgerAsync();
        var remote = new Remote();
        var returnId = NewReturnId();
        const string Path = "/model/sale.sale/1/return_order";
        Exception error = failure switch
        {
            "timeout" => new UpstreamUnavailableException("Fulfil", UpstreamFailure.Timeout, Path, null, null) { MayHaveBeenApplied = true },
            "connection-lost" => new UpstreamUnavailableException("Fulfil", UpstreamFailure.ConnectionLost, Path, null, null) { MayHaveBeenApplied = true },
            "cancelled" => new OperationCanceledException(),
            "connection-refused" => new UpstreamUnavailableException("Fulfil", UpstreamFailure.ConnectionFailed, Path, null, null),
            _ => new TransientIntegrationException("Fulfil answered 503"),
        };
        await Assert.ThrowsAnyAsync<Exception>(() => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromException<string>(error), CancellationToken.None));

        // A retry right away: with the lease kept it backs off, so the server can still commit the first create.
        var retry = await Record.ExceptionAsync(() => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("retry")), CancellationToken.None));

        Assert.Equal(keeps, retry is StepLeaseHeldException);
        Assert.Equal(keeps ? 0 : 1, remote.Creates);
    }

    [Fact]
    public async Task A_create_that_timed_out_and_committed_later_is_found_after_the_lease_expires_not_created_again()
    {
        (var ledger, var clock, _) = await LedgerAsync();
        var remote = new Remote();
        var returnId = NewReturnId();
        // The client gives up after its attempt timeout while the server is still working on the create.
        await Assert.ThrowsAsync<UpstreamUnavailableException>(() => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ =>
            Task.FromException<string>(new UpstreamUnavailableException("Fulfil", UpstreamFailure.Timeout, "/model/sale.sale/1/return_order", null, null) { MayHaveBeenApplied = true }),
            CancellationToken.None));

        var retry = await Record.ExceptionAsync(() => ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("second")), CancellationToken.None));
        remote.Create("first"); // the server commits the timed-out create
        clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var after = await ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("third")), CancellationToken.None);

        Assert.IsType<StepLeaseHeldException>(retry);
        Assert.Equal(1, remote.Creates);
        Assert.False(after.Created);
        Assert.Equal("first", after.DocumentId);
    }

    [Fact]
    public async Task An_expired_lease_is_taken_over_and_only_the_new_holder_records_the_step()
    {
        (var ledger, var clock, _) = await LedgerAsync();
        var remote = new Remote();
        var returnId = NewReturnId();
        var inCreate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stalled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first worker stalls inside its create (a hung process) for longer than its lease.
        var stale = ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ =>
        {
            inCreate.SetResult();
            return stalled.Task;
        }, CancellationToken.None);
        await inCreate.Task;
        clock.Advance(Lease + TimeSpan.FromSeconds(1));

        var taken = await ledger.EnsureStepAsync(returnId, Step, remote.FindAsync, _ => Task.FromResult(remote.Create("taker")), CancellationToken.None);

        // The stalled call comes back afterwards: its lease is gone, so it records nothing.
        stalled.SetResult("stale-document");
        await Assert.ThrowsAnyAsync<TransientIntegrationException>(() => stale);
        Assert.True(taken.Created);
        var step = await ledger.GetStepAsync(returnId, Step, CancellationToken.None);
        Assert.Equal(StepStatus.Done, step!.Status);
        Assert.Equal("taker", step.DocumentId);
        Assert.Equal(2, step.Attempts);
    }

    [Fact]
    public async Task A_byte_identical_snapshot_writes_nothing()
    {
        (var ledger, var clock, var store) = await LedgerAsync();
        var returnId = NewReturnId();
        var body = LoopReturnBuilder.ForDemoSale().WithUnits(Demo.TeeM, 1, 25.00m, "11001").Webhook("return.created");
        var time = new DateTimeOffset(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);
        await ledger.AdvanceSnapshotAsync(returnId, time, "open", body, CancellationToken.None);
        var before = await store.GetAsync(ReturnLedger.Table, returnId, "record", CancellationToken.None);

        clock.Advance(TimeSpan.FromMinutes(3));
        await ledger.AdvanceSnapshotAsync(returnId, time, "open", body.ToArray(), CancellationToken.None);

        var after = await store.GetAsync(ReturnLedger.Table, returnId, "record", CancellationToken.None);
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal(before.GetDateTimeOffset("UpdatedAt"), after.GetDateTimeOffset("UpdatedAt"));
    }

    private static async Task<(ReturnLedger Ledger, FakeTimeProvider Clock, ITableStore Store)> LedgerAsync()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        ITableStore store = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("l"));
        return (new ReturnLedger(store, await AzuriteTestServer.CreateBlobStoreAsync(), clock), clock, store);
    }

    private static string NewReturnId() => "lease-" + Guid.NewGuid().ToString("N");

    /// <summary>The remote side: documents by reference, and how many creates reached it.</summary>
    private sealed class Remote
    {
        private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal);
        private int _creates;

        public int Creates => Volatile.Read(ref _creates);

        public Task<string?> FindAsync(CancellationToken cancellationToken) =>
            Task.FromResult(_documents.TryGetValue("LOOP-EXC", out var id) ? id : null);

        public string Create(string id)
        {
            Interlocked.Increment(ref _creates);
            _documents.TryAdd("LOOP-EXC", id);
            return id;
        }
    }
}
