using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>The nightly repair re-sends only what no live step lease covers (real handlers, Fulfil sandbox, Azurite).</summary>
public sealed class ReconciliationRepairLeaseTests
{
    [Fact]
    public async Task Repair_does_not_resend_an_exchange_whose_order_step_a_worker_holds_and_resends_it_once_the_worker_gave_up()
    {
        await using var h = await ReconciliationHarness.StartAsync();
        (var r, var handedOff) = await h.CloseEvenExchangeAsync();
        Assert.Single(handedOff);

        // A worker is inside the exchange order's create (a slow Fulfil call) while the repair runs.
        var inCreate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = h.Ledger.EnsureStepAsync(r.ReturnId, OutcomeSteps.ExchangeOrder("EXC"), _ => Task.FromResult<string?>(null), _ =>
        {
            inCreate.SetResult();
            return outcome.Task;
        }, CancellationToken.None);
        await inCreate.Task;

        var whileHeld = await h.ReconcileAsync();

        Assert.Equal(ReconciliationMismatchKind.MissingExchangeOrder, Assert.Single(whileHeld.Mismatches).Kind);
        Assert.Empty(h.TakeExchangeMessages());

        // The worker's call fails; its lease ends, so the next repair re-sends the exchange, which makes one order.
        outcome.SetException(new TransientIntegrationException("Fulfil answered 503"));
        await Assert.ThrowsAsync<TransientIntegrationException>(() => worker);
        await h.ReconcileAsync();
        var resend = Assert.Single(h.TakeExchangeMessages());
        Assert.Equal(QueueNames.LoopExchanges, resend.Queue);
        await h.DeliverExchangeAsync(resend);
        await h.DrainAsync();

        Assert.Single(h.Fulfil.State.Where("sale.sale", s => Equals(s.GetValueOrDefault("reference"), $"LOOP-{r.ReturnId}-EXC")));
    }
}
