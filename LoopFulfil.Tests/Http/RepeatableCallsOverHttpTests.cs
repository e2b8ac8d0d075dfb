using System.Net.Http.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Fulfil;
using LoopFulfil.Tests.Loop;

namespace LoopFulfil.Tests.Http;

/// <summary>The retry rule and the look-first Loop writes over real HTTP against the sandboxes.</summary>
public sealed class RepeatableCallsOverHttpTests
{
    private static FulfilJournalEntryRequest Journal(string reference) =>
        new(reference, new DateOnly(2026, 1, 5), [new FulfilJournalLine(3, 1m, 0m, null, null), new FulfilJournalLine(4, 0m, 1m, null, null)]);

    [Fact]
    public async Task A_read_whose_connection_is_reset_is_retried_in_process()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.Faults.InjectNext(SandboxFault.ResetBeforeCommit, 1, "PUT", "account.account/search_read");

        var accounts = await host.Client.GetAccountsByCodesAsync(["2350"]);

        Assert.Single(accounts);
        Assert.Equal(2, host.Sandbox.RequestCount("PUT", "account.account/search_read"));
    }

    [Fact]
    public async Task A_create_answered_503_after_commit_is_sent_once_and_surfaces_as_transient()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.Faults.InjectNext(SandboxFault.ServerErrorAfterCommit, 1, "POST", "model/account.move");

        var error = await Assert.ThrowsAsync<FulfilUnavailableException>(() => host.Client.CreateJournalEntryAsync(Journal("LOOP-ONCE-SC")));

        Assert.IsAssignableFrom<TransientIntegrationException>(error);
        Assert.Equal(503, error.StatusCode);
        Assert.Equal(1, host.Sandbox.RequestCount("POST", "model/account.move"));
        Assert.NotNull(await host.Client.FindJournalEntryAsync("LOOP-ONCE-SC"));
        Assert.Contains(host.Logs.Lines, l => l.Contains("may have been applied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_create_whose_connection_drops_after_commit_is_sent_once_and_found_by_its_reference()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.Faults.InjectNext(SandboxFault.DropAfterCommit, 1, "POST", "model/account.move");

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => host.Client.CreateJournalEntryAsync(Journal("LOOP-DROP-SC")));

        Assert.Equal((UpstreamFailure.ConnectionLost, true), (error.Reason, error.MayHaveBeenApplied));
        Assert.Equal(1, host.Sandbox.RequestCount("POST", "model/account.move"));
        Assert.NotNull(await host.Client.FindJournalEntryAsync("LOOP-DROP-SC"));
    }

    [Fact]
    public async Task A_create_refused_with_429_and_retry_after_is_resent_because_nothing_was_done()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.Faults.RetryAfterSeconds = 0;
        host.Sandbox.Faults.InjectNext(SandboxFault.RateLimited, 1, "POST", "model/account.move");

        var entry = await host.Client.CreateJournalEntryAsync(Journal("LOOP-429-SC"));

        Assert.Equal("LOOP-429-SC", entry.Reference);
        Assert.Equal(2, host.Sandbox.RequestCount("POST", "model/account.move"));
        Assert.Single(host.Sandbox.State.Where("account.move", m => Equals(m.GetValueOrDefault(host.Options.JournalReferenceField), "LOOP-429-SC")));
    }

    [Fact]
    public async Task Faults_aimed_through_the_admin_route_fire_on_the_matching_call_only()
    {
        await using var host = await FulfilTestHost.StartAsync();
        using var admin = new HttpClient { BaseAddress = host.Sandbox.RootAddress };
        var settings = new { inject = new[] { new { fault = "ServerErrorAfterCommit", count = 1, method = "POST", pathEndsWith = "model/account.move" } } };
        (await admin.PostAsJsonAsync("_sandbox/faults", settings)).EnsureSuccessStatusCode();

        Assert.Single(await host.Client.GetAccountsByCodesAsync(["2350"]));
        await Assert.ThrowsAsync<FulfilUnavailableException>(() => host.Client.CreateJournalEntryAsync(Journal("LOOP-ADMIN-SC")));

        Assert.Equal(1, host.Sandbox.Faults.Injected(SandboxFault.ServerErrorAfterCommit));
        Assert.NotNull(await host.Client.FindJournalEntryAsync("LOOP-ADMIN-SC"));
    }

    [Fact]
    public async Task A_loop_note_already_on_the_return_is_not_added_again()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var id = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);

        await h.Client.AddReturnNoteAsync(id, "LoopFulfil: return order RO-1", CancellationToken.None);
        await h.Client.AddReturnNoteAsync(id, "LoopFulfil: return order RO-1", CancellationToken.None);
        await h.Client.AddReturnNoteAsync(id, "LoopFulfil: return order RO-2", CancellationToken.None);

        Assert.Equal(["LoopFulfil: return order RO-1", "LoopFulfil: return order RO-2"], h.Sandbox.GetNotes(id));
        Assert.Equal(2, h.RequestsTo($"/warehouse/return/{id}/note"));
    }

    [Fact]
    public async Task Process_of_a_closed_return_and_flag_of_a_flagged_one_are_no_ops()
    {
        await using var h = await LoopTestHarness.StartAsync();
        var closed = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().WithState("closed").BuildString(), sendCreatedWebhook: false);
        var flagged = h.Sandbox.AddReturn(LoopReturnBuilder.AReturn().WithState("review").BuildString(), sendCreatedWebhook: false);

        await h.Client.ProcessReturnAsync(closed, null, CancellationToken.None);
        await h.Client.FlagReturnAsync(flagged, CancellationToken.None);

        Assert.Equal(0, h.RequestsTo($"/warehouse/return/{closed}/process"));
        Assert.Equal(0, h.RequestsTo($"/warehouse/return/{flagged}/flag"));
        Assert.Equal(("closed", "review", 0), (h.Sandbox.GetState(closed), h.Sandbox.GetState(flagged), h.Sandbox.FlagCount(flagged)));
    }
}
