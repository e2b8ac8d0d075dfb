using System.Collections.Concurrent;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Skus;

/// <summary>
/// <see cref="ISkuCatalog"/> over Fulfil: one <c>product.product</c> search per call for every SKU not cached.
/// Only active products are cached (for <see cref="ReturnsOptions.SkuCacheSeconds"/>): a missing or archived answer
/// is asked again each time, so a product merchandising has just created is seen by the very next replay.
/// </summary>
public sealed class FulfilSkuCatalog : ISkuCatalog
{
    private readonly IFulfilClient fulfil;
    private readonly FulfilProductCache cache;
    private readonly IOptionsMonitor<ReturnsOptions> options;

    public FulfilSkuCatalog(IFulfilClient fulfil, FulfilProductCache cache, IOptionsMonitor<ReturnsOptions> options)
    {
        this.fulfil = fulfil;
        this.cache = cache;
        this.options = options;
    }

    public async Task<IReadOnlyDictionary<string, SkuStatus>> LookupAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, FulfilProduct> products = await GetProductsAsync(skus, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, SkuStatus>(StringComparer.Ordinal);
        foreach (string sku in skus)
        {
            result[sku] = products.TryGetValue(sku, out FulfilProduct? p) ? (p.Active ? SkuStatus.Active : SkuStatus.Archived) : SkuStatus.Missing;
        }

        return result;
    }

    /// <summary>The Fulfil product of each SKU that has one (archived included); missing SKUs are absent.</summary>
    public async Task<IReadOnlyDictionary<string, FulfilProduct>> GetProductsAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skus);
        var found = new Dictionary<string, FulfilProduct>(StringComparer.Ordinal);
        var ask = new List<string>();
        foreach (string sku in skus.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal))
        {
            if (cache.TryGet(sku, out FulfilProduct? cached))
            {
                found[sku] = cached;
            }
            else
            {
                ask.Add(sku);
            }
        }

        if (ask.Count == 0)
        {
            return found;
        }

        IReadOnlyList<FulfilProduct> products = await fulfil.GetProductsBySkusAsync(ask, cancellationToken).ConfigureAwait(false);
        TimeSpan ttl = TimeSpan.FromSeconds(Math.Max(0, options.CurrentValue.SkuCacheSeconds));
        foreach (FulfilProduct product in products)
        {
            // Two products can share a code (one archived, one active): the active one is the one to use.
            if (!found.TryGetValue(product.Sku, out FulfilProduct? existing) || (!existing.Active && product.Active))
            {
                found[product.Sku] = product;
            }
        }

        foreach (string sku in ask)
        {
            if (found.TryGetValue(sku, out FulfilProduct? product) && product.Active)
            {
                cache.Set(sku, product, ttl);
            }
        }

        return found;
    }
}

/// <summary>Process-wide memory of active products by SKU, expiring by <see cref="TimeProvider"/>.</summary>
public sealed class FulfilProductCache
{
    // A bound keeps a long-running host from growing without limit on a catalogue of many SKUs.
    private const int MaxEntries = 20_000;

    private readonly ConcurrentDictionary<string, (FulfilProduct Product, DateTimeOffset Expires)> entries = new(StringComparer.Ordinal);
    private readonly TimeProvider time;

    public FulfilProductCache(TimeProvider time) => this.time = time;

    public bool TryGet(string sku, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FulfilProduct? product)
    {
        if (entries.TryGetValue(sku, out var entry) && entry.Expires > time.GetUtcNow())
        {
            product = entry.Product;
            return true;
        }

        product = null;
        return false;
    }

    public void Set(string sku, FulfilProduct product, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }

        entries[sku] = (product, time.GetUtcNow() + ttl);
    }

    /// <summary>Forgets everything (e.g. after a catalogue sync).</summary>
    public void Clear() => entries.Clear();
}
