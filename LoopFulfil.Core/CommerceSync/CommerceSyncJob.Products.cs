using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>
    /// Products (Fulfil templates). A template reaches Loop with its first variant (<see cref="EnsureAsync"/>); the
    /// walk only refreshes templates Loop already has.
    /// </summary>
    private sealed class ProductStream(Run run)
    {
        public async Task<List<WorkItem>> PrepareAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var mapped = await run.MapAsync(CommerceKinds.Product).ConfigureAwait(false);
            var ids = stamps.Select(s => s.Id).Where(id => mapped.ContainsKey(CommerceMapper.ExternalId(id))).ToList();
            var templates = ids.Count == 0 ? [] : await run.Fulfil.GetProductTemplatesByIdsAsync(ids, run.Ct).ConfigureAwait(false);
            var byId = templates.ToDictionary(t => t.Id);
            return stamps.Select(s => (WorkItem)(async token => byId.TryGetValue(s.Id, out var template)
                ? (await SendAsync(template, token).ConfigureAwait(false)).Outcome
                : run.Skip(CommerceKinds.Product))).ToList();
        }

        /// <summary>The Loop id of a template's product, pushing it first when Loop lacks it (once per run).</summary>
        public Task<Resolved> EnsureAsync(int templateId, FulfilProductTemplate? known, CancellationToken token) =>
            run.Once("product:" + CommerceMapper.ExternalId(templateId), async () =>
            {
                var mapped = await run.MapAsync(CommerceKinds.Product).ConfigureAwait(false);
                if (mapped.TryGetValue(CommerceMapper.ExternalId(templateId), out var m) && m.LoopId is not null)
                {
                    return new Resolved(m.LoopId, null, null);
                }

                var template = known ?? Run.FirstOrNull(await run.Fulfil.GetProductTemplatesByIdsAsync([templateId], token).ConfigureAwait(false));
                if (template is null)
                {
                    var reason = $"template {templateId} does not exist in Fulfil";
                    await run.NotSentAsync(CommerceKinds.Product, CommerceMapper.ExternalId(templateId), reason).ConfigureAwait(false);
                    return Resolved.Fail(reason);
                }

                var (outcome, loopId) = await SendAsync(template, token).ConfigureAwait(false);
                return loopId is null ? Resolved.Fail($"Loop did not accept product {templateId}", outcome == ItemOutcome.Failed) : new Resolved(loopId, null, null);
            });

        private Task<(ItemOutcome Outcome, string? LoopId)> SendAsync(FulfilProductTemplate template, CancellationToken token) =>
            run.SendAsync(
                CommerceKinds.Product,
                CommerceMapper.ExternalId(template.Id),
                CommerceMapper.Product(template, null, run.Options.Channel, run.Currency),
                async (b, t) => (await run.Loop.UpsertProductAsync(b, t).ConfigureAwait(false)).Id,
                token);
    }
}
