namespace LoopFulfil.Core.Outcomes;

/// <summary>What LoopFulfil writes back to Loop (configuration section <c>WriteBack</c>); each switch is independent.</summary>
public sealed class WriteBackOptions
{
    public const string Section = "WriteBack";

    /// <summary>Once a closed return's documents exist, add one note to it listing the Fulfil document numbers.</summary>
    public bool Note { get; set; } = true;

    /// <summary>Push each exchange sales order to Loop as an order (Commerce Data upsert) so it can be returned later.</summary>
    public bool ExchangeOrders { get; set; } = true;
}
