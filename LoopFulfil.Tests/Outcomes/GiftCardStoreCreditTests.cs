using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Tests.Builders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Outcomes;

/// <summary>
/// Store credit issued as a Fulfil gift card (<c>Refunds:StoreCreditDocument=GiftCard</c>), end to end over the Fulfil
/// sandbox (HTTP) and Azurite: one active card per return, whatever the redeliveries, in both posting modes.
/// </summary>
public sealed class GiftCardStoreCreditTests
{
    private const string Hoodie = "HOOD/GRY:XL";
    private const string TeeM = "TEE-BLK-M";

    private static readonly Dictionary<string, string?> GiftCardMode = new() { ["Refunds:StoreCreditDocument"] = "GiftCard" };

    [Fact]
    public async Task Store_credit_with_gift_card_mode_issues_one_active_gift_card_and_settles_the_credit_notes_receivable_against_the_liability_even_delivered_five_times()
    {
        await using var h = await OutcomesHarness.StartAsync(GiftCardMode);
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        for (var i = 0; i < 5; i++)
        {
            await h.SendAsync(r.Closed());
        }

        var card = Assert.Single(GiftCards(h, r.ReturnId));
        Assert.Equal("active", card.State);
        Assert.Equal(79.99m, card.Number("amount"));
        Assert.Equal(UsdCurrencyId(h), card.Ref("currency"));
        Assert.StartsWith("GC", card.Text("number"), StringComparison.Ordinal);
        Assert.Single(h.Fulfil.State.All("gift_card.gift_card"));
        // The returned unit is credited once (docs/accounting.md row 4); the card is the customer's store credit, and
        // the store-credit journal books it: Dr the credit note's receivable 79.99, Cr gift-card liability 79.99.
        Assert.Equal(-79.99m, Assert.Single(h.Fulfil.State.All("account.invoice")).Number("total_amount"));
        var journal = Assert.Single(h.Fulfil.State.JournalEntries());
        Assert.Equal(journal.Id, Assert.Single(h.Journals(r.ReturnId, "SC")).Id);
        var receivable = h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode);
        var liability = h.Fulfil.State.AccountId(FulfilSandboxDemo.GiftCardLiabilityAccountCode);
        Assert.Equal(79.99m, h.JournalLines(journal.Id).Where(l => l.Ref("account") == receivable).Sum(l => l.Number("debit")));
        Assert.Equal(79.99m, h.JournalLines(journal.Id).Where(l => l.Ref("account") == liability).Sum(l => l.Number("credit")));

        var posting = Assert.Single(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None), p => p.Kind == LoopReferences.GiftCard);
        Assert.Equal((PostingStatus.Posted, card.Text("number")), (posting.Status, posting.DocumentNumber));
        Assert.Contains(h.Loop.GetNotes(r.ReturnId), n => n.Contains($"LOOP-{r.ReturnId}-GC {card.Text("number")}", StringComparison.Ordinal));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Scheduled_gift_card_is_issued_by_the_batch_and_counted_as_its_own_document_type()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?>(GiftCardMode) { ["Refunds:PostingMode"] = "Scheduled" });
        // 50.00 returned: 30.00 store credit, 20.00 to the original payment.
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, 25.00m, lineItemId: x.Line(1)).WithLine(TeeM, 25.00m, lineItemId: x.Line(2)).WithGiftCard(30.00m)).AddTo(h.Loop);

        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true), new LineInspection(r.Line(2), true));
        await h.SendAsync(r.Closed());
        Assert.Empty(GiftCards(h, r.ReturnId));

        PostingBatchSummary summary;
        using (var scope = h.Services.CreateScope())
        {
            summary = await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }

        await h.DrainAsync();
        Assert.Equal([new PostingTotal("CN", "USD", 1, 50.00m), new PostingTotal("GC", "USD", 1, 30.00m), new PostingTotal("RF", "USD", 1, 20.00m), new PostingTotal("SC", "USD", 1, 30.00m)], summary.Totals);
        var card = Assert.Single(GiftCards(h, r.ReturnId));
        Assert.Equal(("active", 30.00m), (card.State, card.Number("amount")));
        Assert.Equal(-50.00m, Assert.Single(h.CreditNotes(r.ReturnId)).Number("total_amount"));
        Assert.Equal(20.00m, h.JournalLines(Assert.Single(h.Journals(r.ReturnId, "RF")).Id).Sum(l => l.Number("debit")));
        Assert.Contains(h.Loop.GetNotes(r.ReturnId), n => n.Contains($"LOOP-{r.ReturnId}-GC", StringComparison.Ordinal) && n.Contains($"LOOP-{r.ReturnId}-CN", StringComparison.Ordinal));

        using (var scope = h.Services.CreateScope())
        {
            Assert.Equal(0, (await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None)).Posted);
        }

        Assert.Single(h.Fulfil.State.All("gift_card.gift_card"));
    }

    [Fact]
    public async Task A_return_planned_as_a_journal_keeps_its_journal_after_the_setting_switches_to_gift_card()
    {
        await using var h = await OutcomesHarness.StartAsync(new Dictionary<string, string?> { ["Refunds:PostingMode"] = "Scheduled" });
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(Hoodie, 79.99m, lineItemId: x.Line(1)).WithGiftCard(79.99m)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(r.Closed());

        // Finance switches to gift cards while the journal is still pending; the return is closed again.
        h.Services.GetRequiredService<IOptionsMonitor<RefundsOptions>>().CurrentValue.StoreCreditDocument = StoreCreditDocument.GiftCard;
        await h.SendAsync(r.Closed());
        using (var scope = h.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<ScheduledPostingJob>().RunAsync(CancellationToken.None);
        }

        Assert.Equal(LoopReferences.StoreCredit, Assert.Single(await h.Postings.ForReturnAsync(r.ReturnId, CancellationToken.None), p => p.Kind != LoopReferences.CreditNote).Kind);
        Assert.Equal("posted", Assert.Single(h.Journals(r.ReturnId, "SC")).State);
        Assert.Empty(GiftCards(h, r.ReturnId));
    }

    [Fact]
    public async Task Gift_card_mode_with_a_bonus_books_the_whole_credit_issued_to_the_liability_the_bonus_to_its_account_and_nets_the_receivable()
    {
        await using var h = await OutcomesHarness.StartAsync(GiftCardMode);
        // Row 5 in gift-card mode: a 25.00 unit back, Loop issues G = 27.50 of which B = 2.50 is bonus.
        const decimal price = 25.00m, issued = 27.50m, bonus = 2.50m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithGiftCard(issued)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        await h.SendAsync(LoopPayloads.GiftCardRequestedWebhook(r.ReturnId, issued, bonus));
        await h.SendAsync(r.Closed());
        await h.SendAsync(r.Closed());

        Assert.Equal(("active", issued), (Assert.Single(GiftCards(h, r.ReturnId)).State, Assert.Single(GiftCards(h, r.ReturnId)).Number("amount")));
        var lines = h.Fulfil.State.All("account.move.line");
        decimal Balance(string code) => lines.Where(l => l.Ref("account") == h.Fulfil.State.AccountId(code)).Sum(l => l.Number("debit") - l.Number("credit"));
        Assert.Equal(-issued, Balance(FulfilSandboxDemo.GiftCardLiabilityAccountCode));
        Assert.Equal(bonus, Balance(FulfilSandboxDemo.GiftCardBonusAccountCode));
        // The credit note credited the receivable V = 25.00; the store credit G − B = 25.00 debits it back to zero.
        var note = Assert.Single(h.CreditNotes(r.ReturnId));
        Assert.Equal(-price, note.Number("total_amount"));
        var receivable = h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode);
        int[] moves = [note.Ref("move")!.Value, Assert.Single(h.Journals(r.ReturnId, LoopReferences.StoreCredit)).Id];
        Assert.Equal(0m, lines.Where(l => l.Ref("account") == receivable && moves.Contains(l.Ref("move")!.Value)).Sum(l => l.Number("debit") - l.Number("credit")));
        Assert.Empty(await h.ExceptionRecordsAsync());
    }

    [Fact]
    public async Task Gift_card_mode_with_its_store_credit_journal_raises_a_receivable_residue_as_an_amount_mismatch_instead_of_waiting()
    {
        await using var h = await OutcomesHarness.StartAsync(GiftCardMode);
        const decimal price = 25.00m, stray = 1.00m;
        var r = new OutcomeReturn("#1001", (b, x) => b.WithLine(TeeM, price, lineItemId: x.Line(1)).WithGiftCard(price)).AddTo(h.Loop);
        await h.SendAsync(r.Created_());
        await h.InspectAsync(r.ReturnId, new LineInspection(r.Line(1), true));
        // A stray 1.00 on the customer's receivable under one of the return's references (a store-credit return has no
        // refund payment LOOP-{id}-RF): the credit note V and the store credit G net to zero, the stray line does not.
        var party = h.Fulfil.State.Get("sale.sale", Assert.Single(h.Fulfil.State.FindByReference("sale.sale", "#1001")).Id).Ref("party")!.Value;
        var fulfil = h.Services.GetRequiredService<IFulfilClient>();
        var entry = await fulfil.CreateJournalEntryAsync(new FulfilJournalEntryRequest($"LOOP-{r.ReturnId}-RF", DateOnly.FromDateTime(h.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime),
        [
            new FulfilJournalLine(h.Fulfil.State.AccountId(FulfilSandboxDemo.ReceivableAccountCode), stray, 0m, party, "stray"),
            new FulfilJournalLine(h.Fulfil.State.AccountId(FulfilSandboxDemo.ReturnFeeAccountCode), 0m, stray, null, "stray"),
        ]));
        await fulfil.PostJournalEntryAsync(entry.Id);

        await h.SendAsync(r.Closed());

        Assert.Single(h.Journals(r.ReturnId, LoopReferences.StoreCredit));
        Assert.Empty(h.Fulfil.State.Reconciliations());
        var mismatch = Assert.Single(await h.ExceptionRecordsAsync());
        Assert.Equal(ExceptionCategory.AmountMismatch, mismatch.Category);
        Assert.Contains(stray.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), mismatch.Message, StringComparison.Ordinal);
    }

    internal static IReadOnlyList<FulfilSandboxRecord> GiftCards(OutcomesHarness h, string returnId) =>
        h.Fulfil.State.Where("gift_card.gift_card", g => Equals(g.GetValueOrDefault("comment"), $"LOOP-{returnId}-GC"));

    private static int UsdCurrencyId(OutcomesHarness h) =>
        Assert.Single(h.Fulfil.State.Where("currency.currency", c => Equals(c.GetValueOrDefault("code"), "USD"))).Id;
}
