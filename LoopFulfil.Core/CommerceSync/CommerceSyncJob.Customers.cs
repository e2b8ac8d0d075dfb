using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>
    /// Customers (Fulfil parties). A customer reaches Loop with its first order in the window
    /// (<see cref="EnsureAsync"/>); the walk only refreshes customers Loop already has.
    /// </summary>
    private sealed class CustomerStream(Run run)
    {
        public async Task<List<WorkItem>> PrepareAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var mapped = await run.MapAsync(CommerceKinds.Customer).ConfigureAwait(false);
            var ids = stamps.Select(s => s.Id).Where(id => mapped.ContainsKey(CommerceMapper.ExternalId(id))).ToList();
            var parties = ids.Count == 0 ? [] : await run.Fulfil.GetPartiesByIdsAsync(ids, run.Ct).ConfigureAwait(false);
            var byId = parties.ToDictionary(p => p.Id);
            return stamps.Select(s => (WorkItem)(async token => byId.TryGetValue(s.Id, out var party)
                ? (await SendAsync(party, token).ConfigureAwait(false)).Outcome
                : run.Skip(CommerceKinds.Customer))).ToList();
        }

        /// <summary>The Loop id of a party's customer, pushing it first when Loop lacks it (once per run).</summary>
        public Task<Resolved> EnsureAsync(int partyId, IReadOnlyDictionary<int, FulfilParty> known, CancellationToken token) =>
            run.Once("customer:" + CommerceMapper.ExternalId(partyId), async () =>
            {
                var mapped = await run.MapAsync(CommerceKinds.Customer).ConfigureAwait(false);
                if (mapped.TryGetValue(CommerceMapper.ExternalId(partyId), out var m) && m.LoopId is not null)
                {
                    return new Resolved(m.LoopId, null, null);
                }

                var party = known.GetValueOrDefault(partyId)
                    ?? Run.FirstOrNull(await run.Fulfil.GetPartiesByIdsAsync([partyId], token).ConfigureAwait(false));
                if (party is null)
                {
                    return Resolved.Fail($"party {partyId} does not exist in Fulfil");
                }

                var (outcome, loopId) = await SendAsync(party, token).ConfigureAwait(false);
                return loopId is null ? Resolved.Fail($"Loop did not accept customer {partyId}", outcome == ItemOutcome.Failed) : new Resolved(loopId, null, null);
            });

        private Task<(ItemOutcome Outcome, string? LoopId)> SendAsync(FulfilParty party, CancellationToken token) =>
            run.SendAsync(
                CommerceKinds.Customer,
                CommerceMapper.ExternalId(party.Id),
                CommerceMapper.Customer(party, run.Options.Channel),
                async (b, t) => (await run.Loop.UpsertCustomerAsync(b, t).ConfigureAwait(false)).Id,
                token);
    }
}
