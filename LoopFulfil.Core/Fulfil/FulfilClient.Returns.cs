namespace LoopFulfil.Core.Fulfil;

public sealed partial class FulfilClient
{
    public async Task<FulfilSale> SupersedeReturnOrderAsync(int returnOrderId, string supersededIdentifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(supersededIdentifier);
        var sale = await GetSaleAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
        // Renamed before the cancel: a cancelled record can no longer be written.
        if (!string.Equals(sale.ChannelIdentifier, supersededIdentifier, StringComparison.Ordinal) && sale.State != "cancelled")
        {
            await _http.WriteAsync(Sale, [returnOrderId], new Dictionary<string, object?>(StringComparer.Ordinal) { ["channel_identifier"] = supersededIdentifier }, cancellationToken).ConfigureAwait(false);
        }

        return await CancelReturnOrderAsync(returnOrderId, cancellationToken).ConfigureAwait(false);
    }
}
