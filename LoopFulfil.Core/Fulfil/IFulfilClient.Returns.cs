namespace LoopFulfil.Core.Fulfil;

public partial interface IFulfilClient
{
    /// <summary>
    /// Withdraws a return order that an edited Loop return replaces: its <c>channel_identifier</c> becomes
    /// <paramref name="supersededIdentifier"/> (freeing the Loop return id for the new order), then it is cancelled as
    /// <see cref="CancelReturnOrderAsync"/> does (the sale where Fulfil allows it, else its draft return shipments and
    /// draft credit notes). Safe to repeat.
    /// </summary>
    Task<FulfilSale> SupersedeReturnOrderAsync(int returnOrderId, string supersededIdentifier, CancellationToken cancellationToken = default);
}
