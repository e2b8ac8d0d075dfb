using System.Collections.Concurrent;
using System.Globalization;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>
    /// Orders (Fulfil sales in the return window, with their return orders folded in as refunds). Each line needs its
    /// product and variant in Loop, and the order its customer: they are pushed on demand when missing.
    /// </summary>
    private sealed class OrderStream(Run run, VariantStream variants, CustomerStream customers)
    {
        private readonly ConcurrentDictionary<int, byte> _seen = new();

        /// <summary>A changed return order means its original order's refunds (and maybe status) changed.</summary>
        public Task<List<WorkItem>> PrepareFromStampsAsync(IReadOnlyList<FulfilStamp> stamps) =>
            PrepareAsync(stamps.Select(s => s.Ref ?? s.Id).Distinct().ToList());

        /// <summary>
        /// Orders held back by a dependency (a line's product or the customer could not be sent) get another try in a
        /// run that sent variants or customers: fixing the product in Fulfil does not move the order's own write_date,
        /// so the walk alone would leave them until the daily full pass. Orders Loop itself refused, or held back by a
        /// record Loop refused, are not retried here: retrying would re-send the refused record on every run; they wait
        /// for an edit of the order or the full pass.
        /// </summary>
        public async Task<bool> RetryHeldBackAsync()
        {
            var dependenciesSent = variants.NewThisRun.Count > 0 || run.SentCount(CommerceKinds.Customer) > 0;
            if (run.Mode == SyncMode.FullPass || !dependenciesSent || run.BudgetSpent)
            {
                return !run.BudgetSpent || run.StopForBudget(CommerceKinds.Order);
            }

            var orders = await run.MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var held = orders.Values
                .Where(m => m.Outcome == CommerceOutcome.NotSent && !(m.Reason ?? string.Empty).Contains(LoopRefused, StringComparison.Ordinal))
                .Select(m => int.Parse(m.FulfilId, CultureInfo.InvariantCulture))
                .Where(id => !_seen.ContainsKey(id))
                .Order()
                .ToList();
            foreach (var page in held.Chunk(run.Options.PageSize))
            {
                run.AddTotal(page.Length);
                var items = await PrepareAsync(page).ConfigureAwait(false);
                run.AddDone(page.Length - items.Count);
                if (!await run.ProcessAsync(items).ConfigureAwait(false))
                {
                    return run.StoppedByBudget ? run.StopForBudget(CommerceKinds.Order) : false;
                }
            }

            await run.FlushAsync().ConfigureAwait(false);
            return true;
        }

        /// <summary>
        /// Full pass: orders Loop holds as returnable that the walk over the return window did not meet (they left the
        /// window, or were dated out of it) are read again and sent archived.
        /// </summary>
        public async Task<bool> ArchiveAsync()
        {
            const string name = "archive";
            if (!run.Begin(name))
            {
                return false;
            }

            var orders = await run.MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var due = orders.Values
                .Where(m => m is { Outcome: CommerceOutcome.Sent, LoopId: not null } && m.Status is not ("archived" or "cancelled"))
                .Select(m => (Id: int.Parse(m.FulfilId, CultureInfo.InvariantCulture), m.SaleDate))
                .Where(m => !_seen.ContainsKey(m.Id) || (m.SaleDate is { } d && DateOnly.FromDateTime(d.UtcDateTime) < run.WindowStart))
                .Select(m => m.Id)
                .Order()
                .ToList();
            run.AddTotal(due.Count);
            return await run.ProcessChunksAsync(name, due.Chunk(run.Options.PageSize), PrepareAsync).ConfigureAwait(false);
        }

        /// <summary>One order, pushed now (see <see cref="CommerceSyncJob.PushOrderAsync"/>).</summary>
        public async Task<CommerceOrderPush> PushAsync(int saleId)
        {
            var items = await PrepareAsync([saleId]).ConfigureAwait(false);
            if (items.Count == 0)
            {
                return new CommerceOrderPush(CommerceOrderPushOutcome.Skipped, $"sale {saleId} is not an order Loop holds");
            }

            var outcome = await items[0](run.Ct).ConfigureAwait(false);
            var mapping = (await run.MapAsync(CommerceKinds.Order).ConfigureAwait(false)).GetValueOrDefault(CommerceMapper.ExternalId(saleId));
            return outcome switch
            {
                ItemOutcome.Sent => new CommerceOrderPush(CommerceOrderPushOutcome.Sent, null),
                ItemOutcome.Unchanged => new CommerceOrderPush(CommerceOrderPushOutcome.Unchanged, null),
                ItemOutcome.NotSent => new CommerceOrderPush(CommerceOrderPushOutcome.NotSent, mapping?.Reason),
                ItemOutcome.Failed => new CommerceOrderPush(CommerceOrderPushOutcome.Failed, mapping?.Reason),
                _ => new CommerceOrderPush(CommerceOrderPushOutcome.Skipped, $"sale {saleId} is a draft, or cancelled or out of the return window and never pushed"),
            };
        }

        /// <summary>Reads a page of sales with everything their Loop orders need, in a few batched reads.</summary>
        private async Task<List<WorkItem>> PrepareAsync(IReadOnlyList<int> saleIds)
        {
            var fulfil = run.Fulfil;
            var snapshots = (await fulfil.GetSaleSnapshotsByIdsAsync(saleIds, run.Ct).ConfigureAwait(false)).Where(s => !s.IsReturn).ToList();
            if (snapshots.Count == 0)
            {
                return [];
            }

            var ids = snapshots.Select(s => s.Sale.Id).ToList();
            foreach (var id in ids)
            {
                _seen.TryAdd(id, 0);
            }

            var returnsTask = fulfil.GetReturnSalesAsync(ids, run.Ct);
            var shippedTask = fulfil.GetOutgoingMovesAsync(snapshots.SelectMany(s => s.Sale.Lines.Select(l => l.Id)).ToList(), run.Ct);

            var variantMap = await run.MapAsync(CommerceKinds.Variant).ConfigureAwait(false);
            var productMap = await run.MapAsync(CommerceKinds.Product).ConfigureAwait(false);
            var customerMap = await run.MapAsync(CommerceKinds.Customer).ConfigureAwait(false);
            var missingVariants = snapshots.SelectMany(s => s.Sale.Lines).Where(l => l.ProductId is not null).Select(l => l.ProductId!.Value)
                .Distinct().Where(id => !Mapped(variantMap, id)).ToList();
            var reads = await variants.ReadAsync(missingVariants, templateId => !Mapped(productMap, templateId)).ConfigureAwait(false);
            var missingParties = snapshots.Where(s => s.Sale.PartyId is not null).Select(s => s.Sale.PartyId!.Value).Distinct()
                .Where(id => !Mapped(customerMap, id)).ToList();
            var parties = (missingParties.Count == 0 ? [] : await fulfil.GetPartiesByIdsAsync(missingParties, run.Ct).ConfigureAwait(false)).ToDictionary(p => p.Id);

            var returnSales = await returnsTask.ConfigureAwait(false);
            var returnsByOrigin = returnSales.ToLookup(r => r.OriginSaleId);
            var shipped = await shippedTask.ConfigureAwait(false);
            var refunds = run.ReturnRefunds is { } source && returnSales.Count > 0
                ? await source.GetAsync(returnSales, run.Ct).ConfigureAwait(false)
                : new Dictionary<int, CommerceReturnRefund>();
            return snapshots.Select(s => (WorkItem)(token =>
                SyncAsync(s, returnsByOrigin[s.Sale.Id].ToList(), shipped, refunds, reads, parties, token))).ToList();
        }

        private static bool Mapped(ConcurrentDictionary<string, CommerceMapping> map, int fulfilId) =>
            map.TryGetValue(CommerceMapper.ExternalId(fulfilId), out var m) && m.LoopId is not null;

        private async Task<ItemOutcome> SyncAsync(
            FulfilSaleSnapshot snapshot,
            IReadOnlyList<FulfilSaleSnapshot> returns,
            IReadOnlyList<FulfilOutgoingMove> shipped,
            IReadOnlyDictionary<int, CommerceReturnRefund> refunds,
            VariantReads reads,
            IReadOnlyDictionary<int, FulfilParty> parties,
            CancellationToken token)
        {
            var sale = snapshot.Sale;
            var id = CommerceMapper.ExternalId(sale.Id);
            var orders = await run.MapAsync(CommerceKinds.Order).ConfigureAwait(false);
            var known = orders.TryGetValue(id, out var existing) && existing.LoopId is not null;
            if (FulfilCommerceQueries.IsUnconfirmed(sale))
            {
                return run.Skip(CommerceKinds.Order);
            }

            var status = CommerceMapper.Status(sale, CommerceMapper.ReturnedByLine(returns), run.WindowStart);

            // Loop never needs to learn about an order nobody can return: cancelled, or already outside the window.
            if (!known && (status == LoopOrderStatus.Cancelled || sale.SaleDate < run.WindowStart))
            {
                return run.Skip(CommerceKinds.Order);
            }

            var refs = new Dictionary<int, CommerceMapper.LineRefs>();
            foreach (var line in sale.Lines.Where(l => l.ProductId is not null).OrderBy(l => l.Id))
            {
                var resolved = await variants.EnsureAsync(line.ProductId!.Value, reads, token).ConfigureAwait(false);
                if (resolved.Transient)
                {
                    run.Count(CommerceKinds.Order, ItemOutcome.Failed);
                    return ItemOutcome.Failed;
                }

                if (!resolved.Ok || resolved.ParentLoopId is null)
                {
                    return await run.NotSentAsync(CommerceKinds.Order, id, $"line {line.Id} (product {line.ProductId}) has no product in Loop: {resolved.Reason}").ConfigureAwait(false);
                }

                refs[line.Id] = new CommerceMapper.LineRefs(resolved.ParentLoopId, resolved.LoopId!);
            }

            if (refs.Count == 0)
            {
                return await run.NotSentAsync(CommerceKinds.Order, id, "no line has a product").ConfigureAwait(false);
            }

            string? customerLoopId = null;
            if (sale.PartyId is { } partyId)
            {
                var customer = await customers.EnsureAsync(partyId, parties, token).ConfigureAwait(false);
                if (customer.Transient)
                {
                    run.Count(CommerceKinds.Order, ItemOutcome.Failed);
                    return ItemOutcome.Failed;
                }

                if (!customer.Ok)
                {
                    return await run.NotSentAsync(CommerceKinds.Order, id, $"customer {partyId} is not in Loop: {customer.Reason}").ConfigureAwait(false);
                }

                customerLoopId = customer.LoopId;
            }

            var locations = await run.MapAsync(CommerceKinds.Location).ConfigureAwait(false);
            var locationLoopId = sale.WarehouseId is { } wh ? locations.GetValueOrDefault(CommerceMapper.ExternalId(wh))?.LoopId : null;
            var body = CommerceMapper.Order(snapshot, status, refs, customerLoopId, locationLoopId, shipped, returns, run.Options.Channel, run.Currency, refunds);
            var statusText = status.ToString().ToLowerInvariant();
            var saleDate = sale.SaleDate is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : (DateTimeOffset?)null;
            return (await run.SendAsync(
                CommerceKinds.Order,
                id,
                body,
                async (b, t) => (await run.Loop.UpsertOrderAsync(b, t).ConfigureAwait(false)).Id,
                token,
                decorate: m => m with { Status = statusText, SaleDate = saleDate }).ConfigureAwait(false)).Outcome;
        }
    }
}
