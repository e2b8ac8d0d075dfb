using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// How the scheduled posting job drains a batch (issue 13, the Scheduled-mode chaos run): returns are posted in
/// parallel up to <c>Refunds:PostingParallelism</c>, and each return's <c>postings.posted</c> message — which runs its
/// settlement and write-back — is owed from the claim until it is sent, so a failed send or a killed run loses none.
/// Over HTTP to the Fulfil sandbox and Azurite, on a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class ScheduledPostingDrainTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Posting_job_has_exactly_as_many_returns_in_flight_at_once_as_the_parallelism_setting_allows()
    {
        const int parallelism = 3;
        const int count = (2 * parallelism) + 1;
        var waves = new ClaimWaves(parallelism, count);
        await using var h = await DrainHarness.StartAsync(parallelism, wrapStore: inner => new UpdateHookStore(inner, waves.BeforeAsync, waves.After));
        string[] returns = [.. Enumerable.Range(1, count).Select(i => $"drain-{i}-{Guid.NewGuid().ToString("N")[..8]}")];
        foreach (var returnId in returns)
        {
            await h.Postings.AddAsync(Bonus(returnId, 5.00m), CancellationToken.None);
        }

        // Claims are held until `parallelism` of them are held at once (or every return has claimed), so a job posting
        // fewer returns at once hangs at the first wave (the guard turns that into a failure), and one posting more has
        // more in flight (claimed, not yet recorded posted) than the setting.
        PostingBatchSummary summary;
        try
        {
            summary = await h.RunJobAsync().Guarded();
        }
        finally
        {
            waves.Open();
        }

        Assert.Equal(parallelism, waves.MostInFlight);
        Assert.Equal(count, waves.Claims);
        Assert.Equal(returns.Length, summary.Posted);
        Assert.Empty(summary.Failures);
        Assert.All(returns, id => Assert.Equal("posted", Assert.Single(h.Journals(id, LoopReferences.GiftCardBonus)).State));
        Assert.Equal(returns.Order(StringComparer.Ordinal), h.Announced.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_owed_postings_posted_message_is_sent_while_another_posting_of_the_return_keeps_failing()
    {
        var returnId = "owed-stuck-" + Guid.NewGuid().ToString("N")[..8];
        await using var h = await DrainHarness.StartAsync(parallelism: 2);
        // The bonus was posted under an announcing claim, and the run died before it sent the message.
        var bonus = Bonus(returnId, 5.00m);
        await h.Postings.AddAsync(bonus, CancellationToken.None);
        Assert.True((await h.PostAnnouncingAsync(bonus)).PostedNow);
        // The return's credit note fails permanently on every run (its customer is unknown), so it stays pending.
        await h.Postings.AddAsync(Bonus(returnId, 20.00m) with { Kind = LoopReferences.CreditNote, Reference = LoopReferences.Default.Of(returnId, LoopReferences.CreditNote) }, CancellationToken.None);

        var first = await h.RunJobAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await h.RunJobAsync();

        // The owed message goes out at once, and once; the failing credit note is reported by each run.
        Assert.Equal([returnId], h.Announced);
        Assert.All(new[] { first, second }, s => Assert.Equal(LoopReferences.Default.Of(returnId, LoopReferences.CreditNote), Assert.Single(s.Failures).Reference));
        Assert.Equal(PostingStatus.Pending, (await h.Postings.GetAsync(returnId, LoopReferences.CreditNote, CancellationToken.None))!.Status);
        Assert.False((await h.Postings.GetAsync(returnId, LoopReferences.GiftCardBonus, CancellationToken.None))!.AnnounceDue);
        Assert.Single(h.Journals(returnId, LoopReferences.GiftCardBonus));
    }

    [Fact]
    public async Task A_posting_recorded_while_the_postings_posted_message_is_sent_stays_owed_and_gets_a_message_of_its_own()
    {
        var returnId = "owed-race-" + Guid.NewGuid().ToString("N")[..8];
        await using var h = await DrainHarness.StartAsync(parallelism: 1);
        var bonus = Bonus(returnId, 5.00m);
        await h.Postings.AddAsync(bonus, CancellationToken.None);
        Assert.True((await h.PostAnnouncingAsync(bonus)).PostedNow);

        // While the owed message is being sent, an overlapping run records the return's store credit posted (under an
        // announcing claim): the message just sent may already have been handled without it.
        var credit = Bonus(returnId, 3.00m) with { Kind = LoopReferences.StoreCredit, Reference = LoopReferences.Default.Of(returnId, LoopReferences.StoreCredit) };
        h.WhileFirstAnnouncing = async () =>
        {
            await h.Postings.AddAsync(credit, CancellationToken.None);
            var lease = (await h.Postings.ClaimAsync(returnId, credit.Kind, h.Clock.GetUtcNow(), TimeSpan.FromMinutes(5), announce: true, CancellationToken.None))!;
            await h.Postings.MarkPostedAsync(lease, "77", "SC-77", h.Clock.GetUtcNow(), CancellationToken.None);
        };

        await h.RunJobAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.RunJobAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.RunJobAsync();

        Assert.Equal([returnId, returnId], h.Announced);
        Assert.False((await h.Postings.GetAsync(returnId, credit.Kind, CancellationToken.None))!.AnnounceDue);
    }

    [Fact]
    public async Task An_unexpected_error_in_one_return_is_its_failure_and_the_run_posts_and_announces_the_others()
    {
        var broken = "broken-" + Guid.NewGuid().ToString("N")[..8];
        var healthy = "healthy-" + Guid.NewGuid().ToString("N")[..8];
        var thrown = 0;
        // The broken return's first claim fails as a malformed answer would: not a transient error.
        Task BreakFirstClaim(string table, TableEntity entity) =>
            table == PostingStore.Table && entity.PartitionKey == broken && entity.Properties.ContainsKey(RowLease.OwnerProperty) && Interlocked.Increment(ref thrown) == 1
                ? Task.FromException(new System.Text.Json.JsonException("Injected: an unreadable answer."))
                : Task.CompletedTask;
        await using var h = await DrainHarness.StartAsync(parallelism: 2, wrapStore: inner => new UpdateHookStore(inner, BreakFirstClaim, null));
        await h.Postings.AddAsync(Bonus(broken, 4.00m) with { CreatedAt = Start.AddMinutes(-2) }, CancellationToken.None);
        await h.Postings.AddAsync(Bonus(healthy, 6.00m), CancellationToken.None);

        var first = await h.RunJobAsync();

        Assert.Equal(broken, Assert.Single(first.Failures).ReturnId);
        Assert.Equal((2, 1), (first.Pending, first.Posted));
        Assert.Equal([healthy], h.Announced);
        Assert.Equal(PostingStatus.Pending, (await h.Postings.GetAsync(broken, LoopReferences.GiftCardBonus, CancellationToken.None))!.Status);

        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await h.RunJobAsync();

        Assert.Equal((1, 1), (second.Pending, second.Posted));
        Assert.Empty(second.Failures);
        Assert.Equal([healthy, broken], h.Announced);
        Assert.Single(h.Journals(broken, LoopReferences.GiftCardBonus));
        Assert.Single(h.Journals(healthy, LoopReferences.GiftCardBonus));
    }

    [Fact]
    public async Task A_postings_posted_message_that_could_not_be_sent_is_sent_by_the_next_run_and_the_other_returns_are_announced_at_once()
    {
        var failing = "owed-a-" + Guid.NewGuid().ToString("N")[..8];
        var other = "owed-b-" + Guid.NewGuid().ToString("N")[..8];
        await using var h = await DrainHarness.StartAsync(parallelism: 1, failFirstAnnouncementOf: failing);
        await h.Postings.AddAsync(Bonus(failing, 5.00m) with { CreatedAt = Start.AddMinutes(-2) }, CancellationToken.None);
        await h.Postings.AddAsync(Bonus(other, 7.00m) with { CreatedAt = Start.AddMinutes(-1) }, CancellationToken.None);

        var first = await h.RunJobAsync();

        // Both posted; the first return's message failed (as if the host died right after posting), the other's went.
        Assert.Equal(2, first.Posted);
        Assert.Equal([other], h.Announced);
        Assert.Equal(PostingStatus.Posted, (await h.Postings.GetAsync(failing, LoopReferences.GiftCardBonus, CancellationToken.None))!.Status);

        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await h.RunJobAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var third = await h.RunJobAsync();

        // Nothing is posted again; the owed message is sent once, by the next run.
        Assert.Equal((0, 0), (second.Posted, third.Posted));
        Assert.Equal([other, failing], h.Announced);
        Assert.Single(h.Journals(failing, LoopReferences.GiftCardBonus));
        Assert.Single(h.Journals(other, LoopReferences.GiftCardBonus));
    }

    private static PostingRecord Bonus(string returnId, decimal amount) => PendingPostings.Bonus(returnId, amount, Start.AddMinutes(-1));

    /// <summary>The outcome stages in Scheduled mode on a fake clock, recording the <c>postings.posted</c> messages sent.</summary>
    private sealed class DrainHarness : IntegrationHarness
    {
        private DrainHarness(IntegrationParts parts, FakeTimeProvider clock, AnnouncementSender sender)
            : base(parts)
        {
            Clock = clock;
            Sender = sender;
        }

        public FakeTimeProvider Clock { get; }

        public PostingStore Postings => Services.GetRequiredService<PostingStore>();

        /// <summary>Return ids of the <c>postings.posted</c> messages sent, in order.</summary>
        public IReadOnlyList<string> Announced => Sender.Announced;

        private AnnouncementSender Sender { get; }

        public static async Task<DrainHarness> StartAsync(int parallelism, Func<ITableStore, ITableStore>? wrapStore = null, string? failFirstAnnouncementOf = null)
        {
            var clock = new FakeTimeProvider(Start);
            AnnouncementSender? sender = null;
            var settings = OutcomesHarness.OutcomeSettings;
            settings["Refunds:PostingMode"] = "Scheduled";
            settings["Refunds:PostingParallelism"] = parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var parts = await StartPartsAsync(new IntegrationHarnessOptions
            {
                TablePrefix = "pd",
                FulfilPostingSettings = true,
                Settings = settings,
                Clock = clock,
                WrapStore = wrapStore,
                Sender = bus => sender = new AnnouncementSender(bus, failFirstAnnouncementOf),
                AddFeatures = (services, configuration) =>
                {
                    services.AddLoopFulfilReturns(configuration).AddOutcomeStages(configuration);
                    services.AddLoopFulfilShadowMode(configuration);
                },
            });
            return new DrainHarness(parts, clock, sender!);
        }

        /// <summary>Runs once, inside the first <c>postings.posted</c> send (after the job read what it announces).</summary>
        public Func<Task>? WhileFirstAnnouncing
        {
            set => Sender.WhileFirst = value;
        }

        /// <summary>Posts as the job does (an announcing claim), outside any run.</summary>
        public async Task<PostingOutcome> PostAnnouncingAsync(PostingRecord posting)
        {
            using var scope = Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<RefundPoster>().PostAsync(posting, announce: true, CancellationToken.None);
        }

        public IReadOnlyList<FulfilSandboxRecord> Journals(string returnId, string kind) =>
            Fulfil.State.Where("account.move", m => Equals(m.GetValueOrDefault("description"), $"LOOP-{returnId}-{kind}"));

        public async Task<PostingBatchSummary> RunJobAsync()
        {
            using var scope = Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }
    }

    /// <summary>Hands messages to the bus and records <c>postings.posted</c>; the first one for one return fails as a dropped send.</summary>
    private sealed class AnnouncementSender(InProcessBus bus, string? failFirstOf) : IMessageSender
    {
        private readonly Lock _gate = new();
        private readonly List<string> _announced = [];
        private bool _failed;
        private int _hooked;

        public IReadOnlyList<string> Announced
        {
            get
            {
                lock (_gate)
                {
                    return [.. _announced];
                }
            }
        }

        public Func<Task>? WhileFirst { get; set; }

        public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            if (message.Properties.GetValueOrDefault(WebhookMessagePropertyNames.Trigger) == ScheduledPostingJob.PostedTrigger)
            {
                if (Interlocked.Exchange(ref _hooked, 1) == 0 && WhileFirst is { } hook)
                {
                    await hook();
                }

                var returnId = message.Properties[WebhookMessagePropertyNames.ReturnId];
                lock (_gate)
                {
                    if (returnId == failFirstOf && !_failed)
                    {
                        _failed = true;
                        throw new TransientIntegrationException("Injected: the message could not be sent.");
                    }

                    _announced.Add(returnId);
                }
            }

            await bus.SendAsync(message, cancellationToken);
        }
    }

    /// <summary>Runs hooks around every update of the table store (e.g. to hold or break a posting's claim).</summary>
    private sealed class UpdateHookStore(ITableStore inner, Func<string, TableEntity, Task> before, Action<string, TableEntity>? after) : ITableStore
    {
        public async Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
        {
            await before(table, entity);
            var outcome = await inner.UpdateAsync(table, entity, mode, cancellationToken);
            after?.Invoke(table, entity);
            return outcome;
        }

        public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => inner.CreateTableIfNotExistsAsync(table, cancellationToken);

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

        public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => inner.InsertAsync(table, entity, cancellationToken);

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpsertAsync(table, entity, mode, cancellationToken);

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => inner.QueryAsync(table, filter, cancellationToken);

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => inner.SubmitBatchAsync(table, operations, cancellationToken);
    }

    /// <summary>
    /// Counts postings in flight (from the claim until it is recorded posted) and holds claims in waves: a wave is let
    /// through once <c>size</c> claims are held at once, or once all <c>total</c> postings have claimed.
    /// </summary>
    private sealed class ClaimWaves(int size, int total)
    {
        private readonly Lock _sync = new();
        private TaskCompletionSource _wave = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _held;
        private int _inFlight;
        private bool _open;

        public int Claims { get; private set; }

        public int MostInFlight { get; private set; }

        public Task BeforeAsync(string table, TableEntity entity)
        {
            if (table != PostingStore.Table || !entity.Properties.ContainsKey(RowLease.OwnerProperty))
            {
                return Task.CompletedTask;
            }

            lock (_sync)
            {
                Claims++;
                _inFlight++;
                MostInFlight = Math.Max(MostInFlight, _inFlight);
                if (_open)
                {
                    return Task.CompletedTask;
                }

                var current = _wave;
                if (++_held >= size || Claims >= total)
                {
                    _held = 0;
                    _wave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    current.TrySetResult();
                }

                return current.Task;
            }
        }

        public void After(string table, TableEntity entity)
        {
            if (table == PostingStore.Table && entity.Properties.TryGetValue("Status", out var status) && Equals(status, PostingStatus.Posted))
            {
                lock (_sync)
                {
                    _inFlight--;
                }
            }
        }

        /// <summary>Lets every claim through from now on (after the run, so a failed run leaves nothing waiting).</summary>
        public void Open()
        {
            lock (_sync)
            {
                _open = true;
                _wave.TrySetResult();
            }
        }
    }
}
