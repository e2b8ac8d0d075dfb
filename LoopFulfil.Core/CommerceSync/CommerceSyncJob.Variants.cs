using System.Collections.Concurrent;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>Variants and templates read in a page for dependencies that are not mapped yet (batched instead of one read each).</summary>
    private sealed record VariantReads(IReadOnlyDictionary<int, FulfilProduct> Products, IReadOnlyDictionary<int, FulfilProductTemplate> Templates)
    {
        public static readonly VariantReads None = new(new Dictionary<int, FulfilProduct>(), new Dictionary<int, FulfilProductTemplate>());
    }

    /// <summary>
    /// Variants (Fulfil products), each after its product. Archived variants go to Loop only when an order needs them
    /// (they can still be returned). Variants new to Loop this run are remembered for the inventory and for orders
    /// held back by them.
    /// </summary>
    private sealed class VariantStream(Run run, ProductStream products)
    {
        private readonly ConcurrentDictionary<int, byte> _new = new();

        /// <summary>Fulfil ids of the variants Loop learnt of in this run.</summary>
        public ICollection<int> NewThisRun => _new.Keys;

        public async Task<List<WorkItem>> PrepareAsync(IReadOnlyList<FulfilStamp> stamps)
        {
            var reads = await ReadAsync(stamps.Select(s => s.Id).ToList(), _ => true).ConfigureAwait(false);
            var mapped = await run.MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            return stamps.Select(s => (WorkItem)(async token =>
            {
                var product = reads.Products.GetValueOrDefault(s.Id);
                if (product is { Active: false } && !mapped.ContainsKey(CommerceMapper.ExternalId(s.Id)))
                {
                    return run.Skip(CommerceKinds.Variant);
                }

                return (await SyncAsync(s.Id, product, reads, token).ConfigureAwait(false)).Outcome;
            })).ToList();
        }

        /// <summary>
        /// Reads the variants <paramref name="productIds"/> and those of their templates <paramref name="templateWanted"/>
        /// says are needed, in two batched reads.
        /// </summary>
        public async Task<VariantReads> ReadAsync(List<int> productIds, Func<int, bool> templateWanted)
        {
            if (productIds.Count == 0)
            {
                return VariantReads.None;
            }

            var read = await run.Fulfil.GetProductsByIdsAsync(productIds, run.Ct).ConfigureAwait(false);
            var templateIds = read.Where(p => p.TemplateId is not null).Select(p => p.TemplateId!.Value).Distinct().Where(templateWanted).ToList();
            var templates = templateIds.Count == 0 ? [] : await run.Fulfil.GetProductTemplatesByIdsAsync(templateIds, run.Ct).ConfigureAwait(false);
            return new VariantReads(read.ToDictionary(p => p.Id), templates.ToDictionary(t => t.Id));
        }

        /// <summary>The Loop product and variant ids of a Fulfil variant, pushing them first when Loop lacks them (once per run).</summary>
        public Task<Resolved> EnsureAsync(int productId, VariantReads reads, CancellationToken token) =>
            run.Once("variant:" + CommerceMapper.ExternalId(productId), async () =>
            {
                var variants = await run.MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
                var productMap = await run.MapAsync(CommerceKinds.Product).ConfigureAwait(false);
                if (variants.TryGetValue(CommerceMapper.ExternalId(productId), out var v) && v.LoopId is not null
                    && v.ParentId is not null && productMap.TryGetValue(v.ParentId, out var p) && p.LoopId is not null)
                {
                    return new Resolved(v.LoopId, p.LoopId, null);
                }

                var product = reads.Products.GetValueOrDefault(productId)
                    ?? Run.FirstOrNull(await run.Fulfil.GetProductsByIdsAsync([productId], token).ConfigureAwait(false));
                return (await SyncAsync(productId, product, reads, token).ConfigureAwait(false)).Resolved;
            });

        /// <summary>Pushes a variant (and its product first when Loop lacks it). Unsyncable variants are recorded with the reason.</summary>
        private async Task<(ItemOutcome Outcome, Resolved Resolved)> SyncAsync(int productId, FulfilProduct? product, VariantReads reads, CancellationToken token)
        {
            var id = CommerceMapper.ExternalId(productId);
            var problem = CommerceMapper.VariantProblem(product, productId);
            if (problem is not null)
            {
                return (await run.NotSentAsync(CommerceKinds.Variant, id, problem).ConfigureAwait(false), Resolved.Fail(problem));
            }

            var templateId = product!.TemplateId!.Value;
            var template = reads.Templates.GetValueOrDefault(templateId);
            var parent = await products.EnsureAsync(templateId, template, token).ConfigureAwait(false);
            if (!parent.Ok)
            {
                if (parent.Transient)
                {
                    run.Count(CommerceKinds.Variant, ItemOutcome.Failed);
                    return (ItemOutcome.Failed, parent);
                }

                var reason = $"its product (template {templateId}) cannot be synced: {parent.Reason}";
                return (await run.NotSentAsync(CommerceKinds.Variant, id, reason).ConfigureAwait(false), Resolved.Fail(reason));
            }

            var parentExternalId = CommerceMapper.ExternalId(templateId);
            var (outcome, loopId) = await run.SendAsync(
                CommerceKinds.Variant,
                id,
                CommerceMapper.Variant(product, template, run.Currency),
                async (b, t) => (await run.Loop.UpsertVariantAsync(parentExternalId, b, t).ConfigureAwait(false)).Id,
                token,
                salt: parentExternalId,
                decorate: m => m with { ParentId = parentExternalId },
                sent: before =>
                {
                    if (before?.LoopId is null)
                    {
                        _new.TryAdd(productId, 0);
                    }
                }).ConfigureAwait(false);
            if (loopId is null)
            {
                var mapping = (await run.MapAsync(CommerceKinds.Variant).ConfigureAwait(false)).GetValueOrDefault(id);
                return (outcome, mapping?.LoopId is { } older
                    ? new Resolved(older, parent.LoopId, null)
                    : Resolved.Fail(mapping?.Reason ?? "variant not accepted by Loop", transient: outcome == ItemOutcome.Failed));
            }

            return (outcome, new Resolved(loopId, parent.LoopId, null));
        }
    }
}
