using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// The credit note Fulfil makes from the return order, end to end: the Fulfil sandbox invoices the return sale as Fulfil
/// does (a draft credit invoice linked to it), and LoopFulfil takes that invoice over instead of building one, detected
/// from the return sale's invoice method or forced by <c>Refunds:CreditNoteSource=InvoiceFromReturnOrder</c>.
/// </summary>
public sealed class CreditNoteFromReturnOrderTests
{
    private const string TeeM = "TEE-BLK-M";

    private static readonly Dictionary<string, string?> FromReturnOrder = new() { ["Refunds:CreditNoteSource"] = "InvoiceFromReturnOrder" };

    [Fact]
    public async Task Fulfils_return_invoice_is_checked_referenced_and_posted_as_the_only_credit_note_even_delivered_five_times()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        var generated = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(("draft", -50.00m), (generated.State, generated.Number("total_amount")));
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        for (var i = 0; i < 5; i++)
        {
            await h.SendAsync(r.Closed());
        }

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(generated.Id, note.Id);
        Assert.Equal(("paid", -50.00m, $"LOOP-{r.ReturnId}-CN"), (note.State, note.Number("total_amount"), note.Text("reference")));
        Assert.Equal(h.ReturnOrder(r.ReturnId).Id, Assert.Single(note.Ids("sales")));
        var posting = Assert.Single(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None), p => p.Kind == LoopReferences.CreditNote);
        Assert.Equal((PostingStatus.Posted, note.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), (posting.Status, posting.DocumentId));
        Assert.Contains(h.Loop.GetNotes(r.ReturnId), n => n.Contains(note.Text("number")!, StringComparison.Ordinal));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Return_invoice_for_another_amount_than_loop_credits_is_an_amount_mismatch_for_finance_and_nothing_is_posted()
    {
        await using var h = await OutcomesHarness.StartAsync();
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Order;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        // Someone in Fulfil adds a line to the draft credit note: it now credits 60.00 where Loop credits 50.00.
        var generated = Assert.Single(h.Fulfil.State.All("account.invoice"));
        h.Fulfil.State.AddInvoiceLine(generated.Id, "Goodwill", -1m, 10.00m);
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        var invoice = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal("draft", invoice.State);
        var record = Assert.Single(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.AmountMismatch);
        // Held back behind the record: no timer or redelivery posts it until finance resolves or replays it.
        var posting = (await h.Postings.GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None))!;
        Assert.Equal((PostingStatus.Blocked, record.Id), (posting.Status, posting.BlockedBy));
        Assert.Equal("finance", record.Owner);
        Assert.Contains("-60", record.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fulfil.State.JournalEntries());
    }

    [Fact]
    public async Task Before_fulfil_invoices_the_return_the_credit_note_waits_and_nothing_is_built_by_hand()
    {
        await using var h = await OutcomesHarness.StartAsync(FromReturnOrder);
        h.Fulfil.State.ReturnInvoiceMethod = ReturnInvoicing.Manual;
        h.Bus.MaxDeliveryCount = 3;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1))).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        var waiting = await h.SendAsync(r.Closed());

        // A transient wait: redelivered, no document, no exception record for a person.
        Assert.Contains(waiting, d => d.Error is Core.Errors.TransientIntegrationException);
        Assert.Equal(0, h.Fulfil.State.Count("account.invoice"));
        Assert.Equal(PostingStatus.Pending, (await h.Postings.GetAsync(r.ReturnId, LoopReferences.CreditNote, CancellationToken.None))!.Status);
        Assert.DoesNotContain(await h.ExceptionRecordsAsync(), e => e.Category == ExceptionCategory.AmountMismatch);

        // Fulfil invoices the return order later; the next delivery takes that invoice over.
        h.Fulfil.State.InvoiceReturnOrder(h.ReturnOrder(r.ReturnId).Id);
        await h.SendAsync(r.Closed());

        var note = Assert.Single(h.Fulfil.State.All("account.invoice"));
        Assert.Equal(("paid", -25.00m, $"LOOP-{r.ReturnId}-CN"), (note.State, note.Number("total_amount"), note.Text("reference")));
    }
}
