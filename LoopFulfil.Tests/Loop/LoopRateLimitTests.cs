using LoopFulfil.Core.Loop;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Loop;

public class LoopRateLimitTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Concurrent_callers_never_exceed_the_limit_in_any_rolling_window_at_the_api()
    {
        const int limit = 10;
        var window = TimeSpan.FromSeconds(1);
        await using var h = await LoopTestHarness.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Loop:RequestsPerMinute"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Loop:RateLimitWindow"] = "00:00:01",
        });

        // Two typed clients (two HttpClient instances) share the one process-wide limiter.
        var clients = new[] { h.Client, h.Services.GetRequiredService<ILoopClient>() };
        Assert.NotSame(clients[0], clients[1]);
        // Warm the server and the connection pool first: a cold Kestrel can hold the first requests for a second
        // and then release them together, which would measure connection set-up rather than the limiter.
        await Task.WhenAll(Enumerable.Range(0, limit).Select(_ => h.Client.ListWebhooksAsync(CancellationToken.None)));
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => clients[i % 2].ListWebhooksAsync(CancellationToken.None)));

        var arrivals = h.Sandbox.Requests.Select(r => r.At).Order().Skip(limit).ToArray();
        Assert.Equal(40, arrivals.Length);

        // Permits are exact; arrival times carry network and scheduling jitter, which on a loaded 2-core CI machine
        // reaches a few hundred milliseconds, hence the 400 ms allowance. Without the limiter all 40 arrive at once.
        var observed = window - TimeSpan.FromMilliseconds(400);
        var busiest = arrivals.Select((at, i) => arrivals.Skip(i).TakeWhile(later => later - at < observed).Count()).Max();
        Assert.InRange(busiest, 1, limit);

        // 40 requests at 10 per window need at least three full windows after the first burst.
        Assert.True(arrivals[^1] - arrivals[0] >= 3 * window - TimeSpan.FromMilliseconds(400), $"Spread was {arrivals[^1] - arrivals[0]}.");
    }

    [Fact]
    public async Task Waiters_are_released_exactly_one_window_after_the_grants_they_replace()
    {
        var time = new ManualTimeProvider();
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 3 }), time);

        var first = Enumerable.Range(0, 3).Select(_ => limiter.AcquireAsync("key-a", CancellationToken.None).AsTask()).ToArray();
        var waiting = Enumerable.Range(0, 4).Select(_ => limiter.AcquireAsync("key-a", CancellationToken.None).AsTask()).ToArray();

        Assert.All(first, t => Assert.True(t.IsCompletedSuccessfully && t.Result.IsAcquired));
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(50);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(waiting[..3]).WaitAsync(Generous);
        Assert.All(waiting[..3], t => Assert.True(t.Result.IsAcquired));
        Assert.False(waiting[3].IsCompleted);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.True((await waiting[3].WaitAsync(Generous)).IsAcquired);
    }

    [Fact]
    public async Task Each_api_key_has_its_own_budget()
    {
        var time = new ManualTimeProvider();
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 2 }), time);

        for (var i = 0; i < 2; i++)
        {
            using var lease = await limiter.AcquireAsync("merchant-a", CancellationToken.None);
        }

        var thirdForA = limiter.AcquireAsync("merchant-a", CancellationToken.None).AsTask();
        var firstForB = limiter.AcquireAsync("merchant-b", CancellationToken.None).AsTask();

        Assert.True(firstForB.IsCompletedSuccessfully);
        Assert.False(thirdForA.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await thirdForA.WaitAsync(Generous)).IsAcquired);
    }

    [Fact]
    public async Task A_cancelled_waiter_gives_up_without_a_permit()
    {
        var time = new ManualTimeProvider();
        using var limiter = new LoopRateLimiter(Options.Create(new LoopOptions { RequestsPerMinute = 1 }), time);
        using var granted = await limiter.AcquireAsync("k", CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var waiter = limiter.AcquireAsync("k", cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Generous));
    }
}
