using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Refunds;

namespace LoopFulfil.Core.GoLive;

/// <summary>
/// Groups recent Loop returns by outcome shape and says, per shape, whether the integration supports it today, needs a
/// setting first, or does not (with the docs/accounting.md row or issue that says why).
/// </summary>
internal static class GoLiveWorkflow
{
    public static IReadOnlyList<WorkflowShape> Shapes(IReadOnlyList<LoopReturn> returns, RefundsOptions refunds, FulfilOptions fulfil)
    {
        var shapes = new List<(string Shape, string Support, string Note, LoopReturn Return)>();
        foreach (var r in returns)
        {
            shapes.Add(Classify(r, refunds, fulfil));
            if (r.HandlingFee > 0)
            {
                shapes.Add(string.IsNullOrWhiteSpace(refunds.HandlingFeeAccountCode)
                    ? ("handling fee", "needs a setting", "Refunds__HandlingFeeAccountCode", r)
                    : ("handling fee", "supported", "fee line on the credit note (accounting.md row 2)", r));
            }
        }

        foreach (var order in returns.Where(r => r.OrderName is not null).GroupBy(r => r.OrderName).Where(g => g.Count() > 1))
        {
            foreach (var r in order)
            {
                shapes.Add(("several returns on one order", "supported", "remaining quantity does not yet count earlier returns (#15)", r));
            }
        }

        return shapes.GroupBy(s => (s.Shape, s.Support, s.Note))
            .Select(g => new WorkflowShape(g.Key.Shape, g.Key.Support, g.Count(), g.Sum(s => s.Return.ReturnTotal), g.Key.Note))
            .OrderBy(s => s.Support == "supported" ? 1 : 0).ThenByDescending(s => s.Returns).ToList();
    }

    private static (string, string, string, LoopReturn) Classify(LoopReturn r, RefundsOptions refunds, FulfilOptions fulfil)
    {
        var state = r.State?.Trim().ToLowerInvariant();
        if (state is "cancelled" or "expired")
        {
            return (state, "supported", "the return order is cancelled; nothing posts (accounting.md row 11)", r);
        }

        if (state is not "closed")
        {
            return ("not closed yet (" + (state ?? "unknown") + ")", "supported", "authorised into quarantine; money posts once processed", r);
        }

        if (!string.Equals(r.Currency?.Trim(), refunds.CompanyCurrency.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return ($"other currency ({r.Currency})", "unsupported", "LoopFulfil does not convert; finance posts these by hand", r);
        }

        if (r.Exchanges.Count > 0)
        {
            if (r.Upsell > 0)
            {
                return ("exchange with upsell", "supported", "upsell booked as a payment on the exchange invoice; credit note and invoice reconciled (accounting.md row 7)", r);
            }

            return r.Refund > 0
                ? ("exchange with the difference refunded", "supported", "credit note, exchange invoice and refund payment reconciled (accounting.md row 8)", r)
                : ("even exchange", "supported", "credit note and exchange invoice reconciled (accounting.md row 6)", r);
        }

        if (r.GiftCard > 0)
        {
            return refunds.StoreCreditDocument == StoreCreditDocument.Journal && string.IsNullOrWhiteSpace(fulfil.GiftCardLiabilityAccountCode)
                ? ("store credit", "needs a setting", "Fulfil__GiftCardLiabilityAccountCode", r)
                : ("store credit", "supported", "a bonus on the gift card is not yet booked (accounting.md row 5, #15)", r);
        }

        if (r.Refund > 0)
        {
            return ("refund to original payment", "supported", "accounting.md row 1", r);
        }

        return r.Refunds.Count == 0
            ? ("closed without processing", "supported", "nothing posted; a ClosedWithoutProcessing exception asks finance to confirm (accounting.md row 12)", r)
            : ("closed, zero value", "supported", "nothing to post", r);
    }
}
