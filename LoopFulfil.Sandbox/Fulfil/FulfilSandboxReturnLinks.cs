namespace LoopFulfil.Sandbox.Fulfil;

public sealed partial class FulfilSandboxState
{
    /// <summary>
    /// Makes <paramref name="returnSaleId"/> a return of <paramref name="originSaleId"/>, as a return keyed in by hand or
    /// imported by another sales channel is (no channel identifier of LoopFulfil's).
    /// </summary>
    public void LinkReturnSale(int returnSaleId, int originSaleId) =>
        Write("sale.sale", [returnSaleId], new() { ["origin_sale"] = originSaleId, ["is_return"] = true });
}
