namespace LoopFulfil.Core.Exceptions;

/// <summary>Exception records: owners and the SKU recheck (configuration section <c>Exceptions</c>).</summary>
public sealed class ExceptionOptions
{
    public const string Section = "Exceptions";

    /// <summary>
    /// Owning team per category (<c>Exceptions__Owners__SkuNotFound=merchandising</c>). Configuration adds to or
    /// overrides these defaults; a category left out falls back to <see cref="DefaultOwner"/>.
    /// </summary>
    public Dictionary<ExceptionCategory, string> Owners { get; } = new()
    {
        [ExceptionCategory.SkuNotFound] = "merchandising",
        [ExceptionCategory.SkuArchived] = "merchandising",
        [ExceptionCategory.OrderNotFound] = "operations",
        [ExceptionCategory.FulfilRejected] = "operations",
        [ExceptionCategory.UnparseableEvent] = "operations",
        [ExceptionCategory.UnknownTopic] = "operations",
        [ExceptionCategory.AmountMismatch] = "finance",
        [ExceptionCategory.ExchangeOrderFailed] = "cx",
        [ExceptionCategory.RestockDelayed] = "operations",
        // Goods are physically in the warehouse: operations decides what happens to them, then tells CX.
        [ExceptionCategory.ReturnStateConflict] = "operations",
        [ExceptionCategory.DeadLettered] = "operations",
        // Product data and order import are the e-commerce team's; they fix the record in Fulfil.
        [ExceptionCategory.CommerceRecordNotSent] = "ecommerce",
        [ExceptionCategory.EventTooLarge] = "operations",
        // Whether money is owed for a return Loop closed by hand is finance's call (docs/accounting.md row 12).
        [ExceptionCategory.ClosedWithoutProcessing] = "finance",
        // The customer's outcomes are stuck in Loop: customer experience fixes the return there.
        [ExceptionCategory.LoopProcessingFailed] = "cx",
    };

    /// <summary>Owner of any category missing from <see cref="Owners"/>.</summary>
    public string DefaultOwner { get; set; } = "operations";

    /// <summary>
    /// When true, exception alerts carry <c>flagReturnInLoop=true</c> so the alert consumer flags the return in
    /// Loop ("needs review") and it is not auto-processed while the exception is open.
    /// </summary>
    public bool FlagReturnInLoop { get; set; }

    /// <summary>Six-field NCRONTAB schedule of the SKU recheck job (default every 15 minutes).</summary>
    public string SkuRecheckSchedule { get; set; } = "0 */15 * * * *";

    /// <summary>The owner configured for <paramref name="category"/>.</summary>
    public string OwnerOf(ExceptionCategory category) =>
        Owners.TryGetValue(category, out var owner) && !string.IsNullOrWhiteSpace(owner) ? owner : DefaultOwner;
}
