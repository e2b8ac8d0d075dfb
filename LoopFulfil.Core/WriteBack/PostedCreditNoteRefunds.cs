using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.WriteBack;

/// <summary>
/// Tells commerce sync what each return order really refunded: its posted refund-to-original-payment credit note
/// (<c>LOOP-{id}-CN</c>), found by the return order's channel identifier (the Loop return id). Nothing while
/// <c>WriteBack:OrderRefunds</c> is off, so Loop orders then keep the line-valued refunds.
/// </summary>
public sealed class PostedCreditNoteRefunds : ICommerceReturnRefunds
{
    private readonly PostingStore _postings;
    private readonly IOptionsMonitor<WriteBackOptions> _options;

    public PostedCreditNoteRefunds(PostingStore postings, IOptionsMonitor<WriteBackOptions> options)
    {
        _postings = postings;
        _options = options;
    }

    public async Task<IReadOnlyDictionary<int, CommerceReturnRefund>> GetAsync(IReadOnlyList<FulfilSaleSnapshot> returnSales, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(returnSales);
        var found = new Dictionary<int, CommerceReturnRefund>();
        if (!_options.CurrentValue.OrderRefunds)
        {
            return found;
        }

        foreach (var r in returnSales)
        {
            if (string.IsNullOrEmpty(r.Sale.ChannelIdentifier))
            {
                continue;
            }

            var note = await _postings.GetAsync(r.Sale.ChannelIdentifier, LoopReferences.CreditNote, cancellationToken).ConfigureAwait(false);
            if (note is { Status: PostingStatus.Posted } && (note.ReturnOrderId is null || note.ReturnOrderId == r.Sale.Id))
            {
                found[r.Sale.Id] = new CommerceReturnRefund(note.Reference, note.Amount, note.PostedAt ?? note.CreatedAt);
            }
        }

        return found;
    }
}
