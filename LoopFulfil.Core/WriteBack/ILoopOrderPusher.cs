using LoopFulfil.Core.CommerceSync;

namespace LoopFulfil.Core.WriteBack;

/// <summary>
/// Puts the Loop order of a Fulfil sale in Loop now, its posted refunds included. Commerce sync implements it (it owns
/// the order body); the write-back only asks. Not registered when the host runs without commerce sync: order refunds
/// are then not written back.
/// </summary>
public interface ILoopOrderPusher
{
    Task<CommerceOrderPush> PushOrderAsync(int saleId, CancellationToken cancellationToken);
}
