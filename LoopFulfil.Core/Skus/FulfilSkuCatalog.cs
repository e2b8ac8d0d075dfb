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
    private readonly IFulfilClient _fulfil;
    private readonly FulfilProductCache _cache;
    private readonly IOptionsMonitor<ReturnsOptions> _options;

    public FulfilSkuCatalog(IFulfilClient fulfil, FulfilProductCache cache, IOptionsMonitor<ReturnsOptions> options)
    {
        _fulfil = fulfil;
        _cache = cache;
        _options = options;
    }

    public async Task<IReadOnlyDictionary<string, SkuStatus>> LookupAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
    {
        var products = await GetProductsAsync(skus, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, SkuStatus>(StringComparer.Ordinal);
        foreach (var sku in skus)
        {
            result[sku] = products.TryGetValue(sku, out var p) ? (p.Active ? SkuStatus.Active : SkuStatus.Archived) : SkuStatus.Missing;
        }

        return result;
    }

    /// <summary>The Fulfil product of each SKU that has one (archived included); missing SKUs are absent.</summary>
    public async Task<IReadOnlyDictionary<string, FulfilProduct>> GetProductsAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skus);
        var found = new Dictionary<string, FulfilProduct>(StringComparer.Ordinal);
        var ask = new List<string>();
        foreach (var sku in skus.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal))
        {
            if (_cache.TryGet(sku, out var cached))
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

        var products = await _fulfil.GetProductsBySkusAsync(ask, cancellationToken).ConfigureAwait(false);
        var ttl = TimeSpan.FromSeconds(Math.Max(0, _options.CurrentValue.SkuCacheSeconds));
        foreach (var product in products)
        {
            // Two products can share a code (one archived, one active): the active one is the one to use.
            if (!found.TryGetValue(product.Sku, out var existing) || (!existing.Active && product.Active))
            {
                found[product.Sku] = product;
            }
        }

        foreach (var sku in ask)
        {
            if (found.TryGetValue(sku, out var product) && product.Active)
            {
                _cache.Set(sku, product, ttl);
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

    private readonly ConcurrentDictionary<string, (FulfilProduct Product, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public FulfilProductCache(TimeProvider time) => _time = time;

    public bool TryGet(string sku, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FulfilProduct? product)
    {
        if (_entries.TryGetValue(sku, out var entry) && entry.Expires > _time.GetUtcNow())
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

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[sku] = (product, _time.GetUtcNow() + ttl);
    }

    /// <summary>Forgets everything (e.g. after a catalogue sync).</summary>
    public void Clear() => _entries.Clear();
}
