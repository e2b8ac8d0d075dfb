using LoopFulfil.Core.Loop;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Loop;

public class LoopRateLimitTests
{
    [Fact]
    public async Task Concurrent_callers_never_exceed_the_limit_in_any_rolling_window_at_the_api()
    {
        const int limit = 10;
        var window = TimeSpan.FromSeconds(1);
        await using var h = await LoopTestHarness.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Loop:RequestsPerMinute"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Loop:RateLimitWindow"] = "00:00:01",
            ["Loop:RateLimitWindowPadding"] = "00:00:00.050",
        });

        // Two typed clients (two HttpClient instances) share the one process-wide limiter.
        var clients = new[] { h.Client, h.Services.GetRequiredService<ILoopClient>() };
        Assert.NotSame(clients[0], clients[1]);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => clients[i % 2].ListWebhooksAsync(CancellationToken.None)));

        // Counted as the server counts, on arrival and over the exact window: permits count from each response, and
        // a request arrives before its response, so scheduling jitter cannot bunch arrivals (no allowance needed).
        Assert.Equal(50, h.Sandbox.Requests.Count);
        Assert.InRange(h.Sandbox.MaxRequestsInAnyWindow(window), 1, limit);

        // 50 requests at 10 per window need at least four full windows after the first burst.
        var arrivals = h.Sandbox.Requests.Select(r => r.At).ToArray();
        Assert.True(arrivals[^1] - arrivals[0] >= 4 * window, $"Spread was {arrivals[^1] - arrivals[0]}.");
    }

    [Fact]
    public async Task A_permit_counts_from_its_release_not_its_grant()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 1, RateLimitWindowPadding = TimeSpan.FromSeconds(1) }), time);

        var held = await limiter.AcquireAsync("k", CancellationToken.None);
        var next = limiter.AcquireAsync("k", CancellationToken.None).AsTask();

        // Two windows pass while the first request is still in flight: its slot is not free, whatever the grant time.
        // (Advance runs due timers inline and the limiter completes waiters inside them: no wait is needed to see it.)
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(next.IsCompleted);

        held.Dispose();
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.False(next.IsCompleted);

        // Window plus padding after the response.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await next.Guarded()).IsAcquired);
    }

    [Fact]
    public async Task Waiters_are_released_exactly_one_window_after_the_permits_they_replace_were_returned()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 3, RateLimitWindowPadding = TimeSpan.Zero }), time);

        var first = Enumerable.Range(0, 3).Select(_ => limiter.AcquireAsync("key-a", CancellationToken.None).AsTask()).ToArray();
        var waiting = Enumerable.Range(0, 4).Select(_ => limiter.AcquireAsync("key-a", CancellationToken.None).AsTask()).ToArray();

        Assert.All(first, t => Assert.True(t.IsCompletedSuccessfully && t.Result.IsAcquired));
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        foreach (var lease in await Task.WhenAll(first))
        {
            lease.Dispose();
        }

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(waiting[..3]).Guarded();
        Assert.All(waiting[..3], t => Assert.True(t.Result.IsAcquired));
        Assert.False(waiting[3].IsCompleted);
        (await waiting[0]).Dispose();

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.True((await waiting[3].Guarded()).IsAcquired);
    }

    [Fact]
    public async Task Each_api_key_has_its_own_budget()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 2 }), time);

        for (var i = 0; i < 2; i++)
        {
            using var lease = await limiter.AcquireAsync("merchant-a", CancellationToken.None);
        }

        var thirdForA = limiter.AcquireAsync("merchant-a", CancellationToken.None).AsTask();
        var firstForB = limiter.AcquireAsync("merchant-b", CancellationToken.None).AsTask();

        Assert.True(firstForB.IsCompletedSuccessfully);
        Assert.False(thirdForA.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1) + new LoopOptions().RateLimitWindowPadding);
        Assert.True((await thirdForA.Guarded()).IsAcquired);
    }

    [Fact]
    public async Task A_cancelled_waiter_gives_up_without_a_permit()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 1 }), time);
        using var granted = await limiter.AcquireAsync("k", CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var waiter = limiter.AcquireAsync("k", cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.Guarded());
    }
}
