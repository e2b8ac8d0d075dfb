using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>What the inventory hash covers: the Loop ids and the count sent.</summary>
    private sealed record InventoryBody(string VariantId, string LocationId, long AvailableCount);

    /// <summary>A warehouse Loop holds, with its sellable root and the non-sellable roots inside it.</summary>
    private sealed record SellableWarehouse(FulfilLocationNode Warehouse, string LoopId, int Storage, IReadOnlyList<int> Excluded);

    /// <summary>
    /// Warehouses (Loop locations), pushed first in every run, and sellable stock per variant and warehouse, pushed
    /// last. Incremental runs recount the variants whose stock moved since the watermark (and variants new to Loop);
    /// backfills and full passes recount every mapped variant.
    /// </summary>
    private sealed class InventoryStream(Run run, VariantStream variants)
    {
        private IReadOnlyList<FulfilLocationNode> _locations = [];

        public async Task<bool> WarehousesAsync()
        {
            if (!run.Begin(CommerceKinds.Location))
            {
                return false;
            }

            _locations = await run.Fulfil.GetAllLocationsAsync(run.Ct).ConfigureAwait(false);
            var mapped = await run.MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var warehouses = _locations.Where(FulfilCommerceQueries.IsWarehouse).ToList();
            run.AddTotal(warehouses.Count);
            var items = warehouses.Select(w => (WorkItem)(async token =>
            {
                var id = CommerceMapper.ExternalId(w.Id);
                if (!w.Active && !mapped.ContainsKey(id))
                {
                    return run.Skip(CommerceKinds.Location);
                }

                var body = CommerceMapper.Location(w, run.Options);
                return (await run.SendAsync(CommerceKinds.Location, id, body, async (b, t) => (await run.Loop.UpsertLocationAsync(b, t).ConfigureAwait(false)).Id, token).ConfigureAwait(false)).Outcome;
            })).ToList();
            return await run.ProcessAsync(items).ConfigureAwait(false);
        }

        public async Task<bool> StockAsync()
        {
            const string name = CommerceKinds.Inventory;
            if (!run.Begin(name))
            {
                return false;
            }

            var checkpoint = await run.CheckpointOfAsync(name).ConfigureAwait(false);
            if (run.FullPass && checkpoint is { Finished: true })
            {
                return true;
            }

            var variantMap = await run.MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            HashSet<int> productIds;
            FulfilCursor? newCursor;
            FulfilCursor? newCreatedCursor;
            if (run.FullPass || checkpoint?.Cursor is null)
            {
                productIds = variantMap.Values.Where(v => v.LoopId is not null).Select(v => int.Parse(v.FulfilId, CultureInfo.InvariantCulture)).ToHashSet();
                newCursor = newCreatedCursor = new FulfilCursor((run.StartedAt - run.Options.InventoryWatermarkOverlap).UtcDateTime, 0);
            }
            else
            {
                productIds = [.. variants.NewThisRun];

                // A move created straight into its final state is never written again, so its write_date stays empty:
                // moves are scanned by create date (never edited) and by write date (edited), each from its own cursor.
                var created = await run.CheckpointOfAsync(Run.CreatedWalk(name)).ConfigureAwait(false);
                newCreatedCursor = await ScanMovesAsync(created?.Cursor ?? checkpoint!.Cursor, FulfilStampField.CreateDate, variantMap, productIds).ConfigureAwait(false);
                newCursor = await ScanMovesAsync(checkpoint!.Cursor, FulfilStampField.WriteDate, variantMap, productIds).ConfigureAwait(false);
            }

            var locationMap = await run.MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var warehouses = _locations
                .Where(l => FulfilCommerceQueries.IsWarehouse(l) && l.Active && locationMap.TryGetValue(CommerceMapper.ExternalId(l.Id), out var m) && m.LoopId is not null)
                .Select(l =>
                {
                    var (storage, excluded) = run.Queries.SellableRoots(_locations, l);
                    return new SellableWarehouse(l, locationMap[CommerceMapper.ExternalId(l.Id)].LoopId!, storage, excluded);
                })
                .ToList();
            var ordered = productIds.Order().ToList();
            run.AddTotal((long)ordered.Count * warehouses.Count);
            if (warehouses.Count > 0 && !await PushCountsAsync(name, ordered.Chunk(run.Options.PageSize).ToList(), warehouses, variantMap).ConfigureAwait(false))
            {
                return false;
            }

            await run.FlushAsync().ConfigureAwait(false);
            await run.FinishAsync(Run.CreatedWalk(name), newCreatedCursor).ConfigureAwait(false);
            await run.FinishAsync(name, newCursor).ConfigureAwait(false);
            return true;
        }

        /// <summary>Adds to <paramref name="productIds"/> the Loop variants with a stock move after <paramref name="cursor"/>; returns the new cursor.</summary>
        private async Task<FulfilCursor?> ScanMovesAsync(FulfilCursor? cursor, FulfilStampField stamp, ConcurrentDictionary<string, CommerceMapping> variantMap, HashSet<int> productIds)
        {
            while (true)
            {
                var stamps = await run.Queries.GetChangesAsync(new FulfilCommerceChanges(FulfilCommerceSet.StockMoves, cursor, run.Options.PageSize, stamp), run.Ct).ConfigureAwait(false);
                foreach (var s in stamps)
                {
                    if (s.Ref is { } product && variantMap.TryGetValue(CommerceMapper.ExternalId(product), out var v) && v.LoopId is not null)
                    {
                        productIds.Add(product);
                    }
                }

                if (stamps.Count > 0)
                {
                    cursor = new FulfilCursor(stamps[^1].WriteDate, stamps[^1].Id);
                }

                if (stamps.Count < run.Options.PageSize)
                {
                    return cursor;
                }
            }
        }

        /// <summary>Pushes the counts chunk by chunk, reading the next chunk's stock while the current one is pushed.</summary>
        private async Task<bool> PushCountsAsync(string name, List<int[]> chunks, IReadOnlyList<SellableWarehouse> warehouses, ConcurrentDictionary<string, CommerceMapping> variantMap)
        {
            var next = chunks.Count > 0 ? PrepareAsync(chunks[0], warehouses, variantMap) : null;
            for (var i = 0; i < chunks.Count; i++)
            {
                var items = await next!.ConfigureAwait(false);
                next = i + 1 < chunks.Count ? PrepareAsync(chunks[i + 1], warehouses, variantMap) : null;
                if (!await run.ProcessAsync(items).ConfigureAwait(false))
                {
                    if (next is not null)
                    {
                        Run.Forget(next);
                    }

                    return run.StoppedByBudget ? run.StopForBudget(name) : false;
                }

                if (run.BudgetSpent && next is not null)
                {
                    Run.Forget(next);
                    return run.StopForBudget(name);
                }
            }

            return true;
        }

        private async Task<List<WorkItem>> PrepareAsync(int[] productIds, IReadOnlyList<SellableWarehouse> warehouses, ConcurrentDictionary<string, CommerceMapping> variantMap)
        {
            var items = new List<WorkItem>();
            foreach (var warehouse in warehouses)
            {
                var levels = await run.Fulfil.GetStockAsync(productIds, [warehouse.Storage, .. warehouse.Excluded], run.Ct).ConfigureAwait(false);
                var byProduct = levels.ToLookup(l => l.ProductId);
                foreach (var productId in productIds)
                {
                    var variantLoopId = variantMap.GetValueOrDefault(CommerceMapper.ExternalId(productId))?.LoopId;
                    if (variantLoopId is null)
                    {
                        continue;
                    }

                    // Quarantined and damaged units are never offered for exchange, even when they sit inside the sellable tree.
                    var rows = byProduct[productId].ToList();
                    var sellable = rows.Where(r => r.LocationId == warehouse.Storage).Sum(r => r.Quantity) - rows.Where(r => warehouse.Excluded.Contains(r.LocationId)).Sum(r => r.Quantity);
                    var count = (long)decimal.Floor(Math.Max(0m, sellable));
                    var key = CommerceMapper.ExternalId(productId) + ":" + CommerceMapper.ExternalId(warehouse.Warehouse.Id);
                    var body = new InventoryBody(variantLoopId, warehouse.LoopId, count);
                    items.Add(async token => (await run.SendAsync(
                        CommerceKinds.Inventory,
                        key,
                        body,
                        async (b, t) =>
                        {
                            await run.Loop.SetInventoryAsync(b.VariantId, b.LocationId, b.AvailableCount, t).ConfigureAwait(false);
                            return b.VariantId + "/" + b.LocationId;
                        },
                        token).ConfigureAwait(false)).Outcome);
                }
            }

            return items;
        }
    }
}
