using LoopFulfil.Chaos;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Sandbox.Tryton;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// The chaos run's reader on Tryton (<see cref="TrytonChaosErp"/>, docs/benchmarks/chaos.md): what it counts as a
/// return's documents, read over the façade, for a processed cash refund and a return cancelled after authorisation.
/// A whole chaos run on Tryton takes minutes, so the run itself is not in the suite; its reader is.
/// </summary>
[Collection(TrytonTests.Name)]
public sealed class TrytonChaosReaderTests(TrytonFixture fixture) : TrytonTestBase(fixture)
{
    [Fact]
    public async Task Chaos_reader_finds_one_return_sale_credit_note_with_tax_refund_entry_and_restock_and_skips_the_cancelled_returns_credit_note()
    {
        // Tryton rule: a cancelled return's sale stays processing and its draft credit note is cancelled, so the
        // reader counts its return order and no credit note; a processed return's credit note carries Tryton's tax.
        await using var h = await StartAsync();
        var (refund, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));
        var (cancelled, _) = await ReturnAsync(h, (b, x) => b.WithLine(Tee, Price, tax: Tax, lineItemId: x.Line(1)));
        await h.SendAsync(refund.Created_());
        await h.InspectAsync(refund.ReturnId, new LineInspection(refund.Line(1), true, "back_to_stock"));
        await h.SendAsync(refund.Closed());
        await h.SendAsync(cancelled.Created_());
        await h.SendAsync(cancelled.Webhook("return.updated", "cancelled", 30));
        using var reader = new TrytonChaosErp(h.Engine);

        var documents = await reader.DocumentsAsync(new HashSet<string>(StringComparer.Ordinal) { refund.ReturnId, cancelled.ReturnId }, CancellationToken.None);

        var id = refund.ReturnId;
        Assert.Equal(
            new[] { (ChaosReturns.ReturnOrder, id), (ChaosReturns.ReturnOrder, cancelled.ReturnId), (ChaosReturns.CreditNote, $"LOOP-{id}-CN"), (ChaosReturns.Journal, $"LOOP-{id}-RF"), (ChaosReturns.Restock, $"LOOP-{id}-RESTOCK-{TrytonEngine.Codes.Sellable}") }.Order(),
            documents.Keys.Order());
        Assert.All(documents.Values, d => Assert.Single(d));
        Assert.Equal(Price + Tax, documents[(ChaosReturns.CreditNote, $"LOOP-{id}-CN")][0].Amount);
        Assert.Equal(Price + Tax, documents[(ChaosReturns.Journal, $"LOOP-{id}-RF")][0].Amount);
        Assert.Equal("processing", documents[(ChaosReturns.ReturnOrder, cancelled.ReturnId)][0].State);
        Assert.True(await reader.HasReturnOrderAsync(cancelled.ReturnId, CancellationToken.None));
    }
}
