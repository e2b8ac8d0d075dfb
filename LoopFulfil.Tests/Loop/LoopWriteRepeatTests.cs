using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Sandbox.Hosting;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Loop;

/// <summary>
/// Every Loop write the integration makes (process, flag, note) when Loop commits it and then answers 503: the
/// client, wired as production wires it (resilience pipeline included), surfaces the unclear outcome as transient
/// without sending the write again, and the next attempt (the message's redelivery) finds the effect and leaves it
/// at one. Over real HTTP against the Loop sandbox on 127.0.0.1.
/// </summary>
public sealed class LoopWriteRepeatTests
{
    [Fact]
    public async Task Process_committed_then_answered_503_is_queued_once_and_the_repeat_finds_it_closed()
    {
        await using var loop = await LoopSandbox.StartAsync();
        using var services = ProductionClient(loop);
        var client = services.GetRequiredService<ILoopClient>();
        var id = loop.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        loop.Faults.InjectNext(SandboxFault.ServerErrorAfterCommit, method: "POST", pathEndsWith: $"/{id}/process");

        await Assert.ThrowsAsync<LoopUnavailableException>(() => client.ProcessReturnAsync(id, null, CancellationToken.None));
        // Loop processes in the background; the redelivery comes after it has (the timeout only guards against a hang).
        await loop.BackgroundWorkDone().Guarded();

        await client.ProcessReturnAsync(id, null, CancellationToken.None);

        Assert.Equal(("closed", 1), (loop.GetState(id), loop.ProcessCount(id)));
    }

    [Fact]
    public async Task Flag_committed_then_answered_503_flags_once_and_the_repeat_finds_it_in_review()
    {
        await using var loop = await LoopSandbox.StartAsync();
        using var services = ProductionClient(loop);
        var client = services.GetRequiredService<ILoopClient>();
        var id = loop.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        loop.Faults.InjectNext(SandboxFault.ServerErrorAfterCommit, method: "POST", pathEndsWith: $"/{id}/flag");

        await Assert.ThrowsAsync<LoopUnavailableException>(() => client.FlagReturnAsync(id, CancellationToken.None));
        await client.FlagReturnAsync(id, CancellationToken.None);

        Assert.Equal(("review", 1), (loop.GetState(id), loop.FlagCount(id)));
    }

    [Fact]
    public async Task Note_committed_then_answered_503_is_written_once_and_the_repeat_finds_it()
    {
        const string Note = "LoopFulfil: return order SO-0042; LOOP-7001-CN CN-0007 (25.00 USD)";
        await using var loop = await LoopSandbox.StartAsync();
        using var services = ProductionClient(loop);
        var client = services.GetRequiredService<ILoopClient>();
        var id = loop.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        loop.Faults.InjectNext(SandboxFault.ServerErrorAfterCommit, method: "POST", pathEndsWith: $"/{id}/note");

        await Assert.ThrowsAsync<LoopUnavailableException>(() => client.AddReturnNoteAsync(id, Note, CancellationToken.None));
        await client.AddReturnNoteAsync(id, Note, CancellationToken.None);

        Assert.Equal([Note], loop.GetNotes(id));
    }

    [Fact]
    public async Task Write_back_note_committed_then_answered_503_is_not_written_again_when_the_repeat_words_it_differently()
    {
        const string Key = "LoopFulfil: return order ";
        await using var loop = await LoopSandbox.StartAsync();
        using var services = ProductionClient(loop);
        var client = services.GetRequiredService<ILoopClient>();
        var id = loop.AddReturn(LoopReturnBuilder.AReturn().BuildString(), sendCreatedWebhook: false);
        loop.Faults.InjectNext(SandboxFault.ServerErrorAfterCommit, method: "POST", pathEndsWith: $"/{id}/note");

        await Assert.ThrowsAsync<LoopUnavailableException>(() => client.AddReturnNoteOnceAsync(id, Key, Key + "RO-1; LOOP-7001-CN CN-7 (25.00 USD)", CancellationToken.None));
        // The redelivery names one more document that exists by then: still the same note.
        await client.AddReturnNoteOnceAsync(id, Key, Key + "RO-1; LOOP-7001-CN CN-7 (25.00 USD); LOOP-7001-RF 12 (25.00 USD)", CancellationToken.None);

        Assert.Equal([Key + "RO-1; LOOP-7001-CN CN-7 (25.00 USD)"], loop.GetNotes(id));
    }

    /// <summary>The Loop client with the production handlers (resilience pipeline, rate limiter, attempt timeout), retries fast.</summary>
    private static ServiceProvider ProductionClient(LoopSandbox loop)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = loop.ApiKey,
            ["HttpResilience:BaseDelay"] = "00:00:00.01",
            ["HttpResilience:MaxDelay"] = "00:00:00.05",
        }).Build();
        return new ServiceCollection().AddLogging().AddLoopFulfilHttpResilience(configuration).AddLoopFulfilLoop(configuration).BuildServiceProvider(validateScopes: true);
    }
}
