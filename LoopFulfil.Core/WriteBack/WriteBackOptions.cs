namespace LoopFulfil.Core.WriteBack;

/// <summary>What LoopFulfil writes back to Loop (configuration section <c>WriteBack</c>); each switch is independent.</summary>
public sealed class WriteBackOptions
{
    public const string Section = "WriteBack";

    /// <summary>Once a closed return's documents exist, add one note to it listing the Fulfil document numbers.</summary>
    public bool Note { get; set; } = true;

    /// <summary>Push each exchange sales order to Loop as an order (Commerce Data upsert) so it can be returned later.</summary>
    public bool ExchangeOrders { get; set; } = true;

    /// <summary>
    /// Once a return's refund-to-original-payment credit note is posted, record the refund on the Loop order (Commerce
    /// Data <c>refunds[]</c>, external id = the credit note reference) by pushing the order through commerce sync.
    /// Needs <c>CommerceSync:Enabled</c> (Loop Anywhere: orders reach Loop through LoopFulfil); otherwise nothing is sent.
    /// </summary>
    public bool OrderRefunds { get; set; } = true;
}
