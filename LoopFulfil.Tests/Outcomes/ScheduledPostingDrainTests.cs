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
    public async Task Posting_job_posts_as_many_returns_at_once_as_the_parallelism_setting_allows()
    {
        const int parallelism = 3;
        var claims = new ClaimBarrierStore.Gate(parallelism);
        await using var h = await DrainHarness.StartAsync(parallelism, wrapStore: inner => new ClaimBarrierStore(inner, claims));
        string[] returns = [.. Enumerable.Range(1, parallelism + 1).Select(i => $"drain-{i}-{Guid.NewGuid().ToString("N")[..8]}")];
        foreach (var returnId in returns)
        {
            await h.Postings.AddAsync(Bonus(returnId, 5.00m), CancellationToken.None);
        }

        // Every claim waits at the gate until `parallelism` claims wait there together: a job that posts one return at
        // a time never gets there (the guard only stops such a job from hanging the test; it is not a time budget).
        PostingBatchSummary summary;
        try
        {
            summary = await h.RunJobAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            claims.Open();
        }

        Assert.Equal(parallelism, claims.MostWaitingAtOnce);
        Assert.Equal(returns.Length, summary.Posted);
        Assert.Empty(summary.Failures);
        Assert.All(returns, id => Assert.Equal("posted", Assert.Single(h.Journals(id, LoopReferences.GiftCardBonus)).State));
        Assert.Equal(returns.Order(StringComparer.Ordinal), h.Announced.Order(StringComparer.Ordinal));
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

    /// <summary>A posting that needs no other document first (the bonus journal: bonus account to gift-card liability).</summary>
    private static PostingRecord Bonus(string returnId, decimal amount) => new()
    {
        ReturnId = returnId,
        Kind = LoopReferences.GiftCardBonus,
        Reference = LoopReferences.Default.Of(returnId, LoopReferences.GiftCardBonus),
        Currency = "USD",
        Amount = amount,
        Status = PostingStatus.Pending,
        CreatedAt = Start.AddMinutes(-1),
    };

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

        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            if (message.Properties.GetValueOrDefault(WebhookMessagePropertyNames.Trigger) == ScheduledPostingJob.PostedTrigger)
            {
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

            return bus.SendAsync(message, cancellationToken);
        }
    }

    /// <summary>Holds every claim of a posting until <see cref="Gate"/> has as many waiting at once as it was built for.</summary>
    private sealed class ClaimBarrierStore(ITableStore inner, ClaimBarrierStore.Gate gate) : ITableStore
    {
        public async Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken)
        {
            if (table == PostingStore.Table && entity.Properties.ContainsKey(RowLease.OwnerProperty))
            {
                await gate.WaitAsync();
            }

            return await inner.UpdateAsync(table, entity, mode, cancellationToken);
        }

        public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => inner.CreateTableIfNotExistsAsync(table, cancellationToken);

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

        public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => inner.InsertAsync(table, entity, cancellationToken);

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => inner.UpsertAsync(table, entity, mode, cancellationToken);

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => inner.DeleteAsync(table, partitionKey, rowKey, cancellationToken);

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => inner.QueryAsync(table, filter, cancellationToken);

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => inner.SubmitBatchAsync(table, operations, cancellationToken);

        /// <summary>Opens once <c>size</c> callers wait together (or when told to); after that nobody waits.</summary>
        public sealed class Gate(int size)
        {
            private readonly Lock _sync = new();
            private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private int _waiting;

            public int MostWaitingAtOnce { get; private set; }

            public Task WaitAsync()
            {
                lock (_sync)
                {
                    if (_open.Task.IsCompleted)
                    {
                        return Task.CompletedTask;
                    }

                    _waiting++;
                    MostWaitingAtOnce = Math.Max(MostWaitingAtOnce, _waiting);
                    if (_waiting >= size)
                    {
                        _open.TrySetResult();
                    }
                }

                return _open.Task;
            }

            public void Open() => _open.TrySetResult();
        }
    }
}
