using System.Net;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Loop;
using LoopFulfil.Sandbox.Loop;

namespace LoopFulfil.Tests.Loop;

public class LoopClientErrorTests
{
    [Fact]
    public async Task Wrong_api_key_is_a_permanent_auth_error_that_never_echoes_the_key()
    {
        const string wrongKey = "lk_live_not-the-sandbox-key-123";
        await using var h = await LoopTestHarness.StartAsync(settings: new Dictionary<string, string?> { ["Loop:ApiKey"] = wrongKey });

        var error = await Assert.ThrowsAsync<LoopAuthenticationException>(() => h.Client.GetReturnAsync("1", CancellationToken.None));

        Assert.IsAssignableFrom<PermanentIntegrationException>(error);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("Loop:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_many_requests_is_transient_and_carries_retry_after()
    {
        await using var h = await LoopTestHarness.StartAsync();
        h.Sandbox.Faults.RetryAfterSeconds = 7;
        h.Sandbox.Faults.RateLimitNext(1);

        var error = await Assert.ThrowsAsync<LoopUnavailableException>(() => h.Client.ListWebhooksAsync(CancellationToken.None));

        Assert.IsAssignableFrom<TransientIntegrationException>(error);
        Assert.Equal((HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(7)), (error.StatusCode, error.RetryAfter));
    }

    [Fact]
    public async Task Server_error_is_transient()
    {
        await using var h = await LoopTestHarness.StartAsync();
        h.Sandbox.Faults.FailNext(1);

        var error = await Assert.ThrowsAsync<LoopUnavailableException>(() => h.Client.ListWebhooksAsync(CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Empty(await h.Client.ListWebhooksAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_transient()
    {
        await using var h = await LoopTestHarness.StartAsync(settings: new Dictionary<string, string?> { ["Loop:TimeoutSeconds"] = "1" });
        h.Sandbox.Faults.TimeoutStall = TimeSpan.FromSeconds(20);
        h.Sandbox.Faults.TimeOutNext(1);

        var error = await Assert.ThrowsAsync<LoopUnavailableException>(() => h.Client.ListWebhooksAsync(CancellationToken.None));

        Assert.Null(error.StatusCode);
        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_disguised_as_a_transient_failure()
    {
        await using var h = await LoopTestHarness.StartAsync();
        h.Sandbox.Faults.Latency = TimeSpan.FromSeconds(10);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Client.ListWebhooksAsync(cts.Token));
    }

    [Fact]
    public async Task A_list_range_over_120_days_is_a_validation_error_from_the_sandbox()
    {
        await using var sandbox = await LoopSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sandbox.ApiBaseUrl, "2026-10/") };
        http.DefaultRequestHeaders.Add("X-Authorization", sandbox.ApiKey);

        using var tooLong = await http.GetAsync(new Uri("warehouse/return/list?paginate=true&from=2026-01-01%2000%3A00%3A00&to=2026-05-02%2000%3A00%3A00", UriKind.Relative));
        using var tooBig = await http.GetAsync(new Uri("warehouse/return/list?paginate=true&pageSize=751", UriKind.Relative));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        Assert.Contains("120 days", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooBig.StatusCode);
    }
}
