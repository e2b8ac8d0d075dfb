namespace LoopFulfil.Core.Skus;

/// <summary>What Fulfil says about a SKU (product code).</summary>
public enum SkuStatus
{
    /// <summary>No product with this code.</summary>
    Missing,

    /// <summary>A product exists and can be sold/received.</summary>
    Active,

    /// <summary>A product exists but is archived (inactive).</summary>
    Archived,
}

/// <summary>
/// Looks SKUs up in the ERP. Implemented by the Fulfil client; the exception rechecker only needs this much.
/// </summary>
public interface ISkuCatalog
{
    /// <summary>
    /// Status of each requested SKU. Every requested SKU should be in the result; one that is absent is treated as
    /// <see cref="SkuStatus.Missing"/>. Transient failures throw <c>TransientIntegrationException</c>.
    /// </summary>
    Task<IReadOnlyDictionary<string, SkuStatus>> LookupAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken);
}
