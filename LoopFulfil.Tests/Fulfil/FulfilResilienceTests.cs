using System.Net;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Fulfil;

/// <summary>The shared resilience handler and Fulfil's error mapping, against injected faults over real HTTP.</summary>
public class FulfilResilienceTests
{
    [Fact]
    public async Task Rate_limit_with_retry_after_2_waits_two_seconds_of_the_clock_then_succeeds()
    {
        var time = new ObservedFakeTimeProvider(new DateTimeOffset(2026, 3, 10, 10, 0, 0, TimeSpan.Zero));
        await using var host = await FulfilTestHost.StartAsync(time: time);
        host.Sandbox.Faults.RetryAfterSeconds = 2;
        host.Sandbox.Faults.RateLimitNext(1);

        var call = host.Client.GetLocationsByCodesAsync(["QUAR"]);
        await time.WaitForTimerDueInAsync(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        var stillWaiting = time.IsArmed(TimeSpan.FromSeconds(2));
        var sentBeforeTheWaitEnded = host.Sandbox.Faults.RequestCount;
        time.Advance(TimeSpan.FromMilliseconds(1));
        var locations = await call.Guarded();

        Assert.True(stillWaiting, "the Retry-After wait ended before 2 s of the clock had passed");
        Assert.Equal(1, sentBeforeTheWaitEnded);
        Assert.Single(locations);
        Assert.Equal(2, host.Sandbox.Faults.RequestCount);
    }

    [Fact]
    public async Task Retry_after_longer_than_the_cap_is_not_waited_but_surfaces_as_transient_with_the_wait()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["HttpResilience:MaxRetryAfter"] = "00:00:01" });
        host.Sandbox.Faults.RetryAfterSeconds = 120;
        host.Sandbox.Faults.RateLimitNext(1);

        var error = await Assert.ThrowsAsync<FulfilUnavailableException>(() => host.Client.GetLocationsByCodesAsync(["QUAR"]));

        Assert.IsAssignableFrom<TransientIntegrationException>(error);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(120), error.RetryAfter);
        Assert.Equal(1, host.Sandbox.Faults.RequestCount);
    }

    [Fact]
    public async Task Service_unavailable_is_retried_until_it_succeeds()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.Faults.FailNext(2);

        var sale = await host.Client.FindSaleByReferenceAsync("#1002");

        Assert.NotNull(sale);
        Assert.Equal(3 + 1, host.Sandbox.Faults.RequestCount); // two 503s, the sale search, then its lines
        Assert.Contains(host.Logs.Lines, l => l.Contains("attempt 1 got 503", StringComparison.Ordinal) && l.Contains("/api/v2/model/sale.sale/search_read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Persistent_server_errors_end_as_a_transient_exception_after_the_configured_retries()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["HttpResilience:MaxRetryAttempts"] = "2" });
        host.Sandbox.Faults.FailNext(50);

        var error = await Assert.ThrowsAsync<FulfilUnavailableException>(() => host.Client.GetAccountsByCodesAsync(["2350"]));

        Assert.Equal(503, error.StatusCode);
        Assert.Equal(3, host.Sandbox.Faults.RequestCount);
    }

    [Fact]
    public async Task Attempt_that_times_out_is_retried()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["HttpResilience:AttemptTimeout"] = "00:00:00.500" });
        host.Sandbox.Faults.TimeOutNext(1);

        var accounts = await host.Client.GetAccountsByCodesAsync(["2350"]);

        Assert.Single(accounts);
        Assert.Equal(2, host.Sandbox.Faults.RequestCount);
    }

    [Fact]
    public async Task User_error_is_sent_exactly_once()
    {
        await using var host = await FulfilTestHost.StartAsync();
        host.Sandbox.State.ClosePeriod(2025, 3);

        await Assert.ThrowsAsync<FulfilUserErrorException>(() => host.Client.CreateJournalEntryAsync(
            new FulfilJournalEntryRequest("LOOP-ONCE", new DateOnly(2025, 3, 3), [new FulfilJournalLine(3, 1m, 0m, null, null), new FulfilJournalLine(4, 0m, 1m, null, null)])));

        // The client reads the accounts first (which take a party); the refused write itself is never repeated.
        Assert.Equal(1, host.Sandbox.RequestCount("POST", "model/account.move"));
    }

    [Fact]
    public async Task Circuit_opens_after_repeated_failures_and_then_fails_fast_without_calling()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["HttpResilience:MaxRetryAttempts"] = "0",
            ["HttpResilience:CircuitBreakerMinimumThroughput"] = "4",
            ["HttpResilience:CircuitBreakerFailureRatio"] = "0.5",
            ["HttpResilience:CircuitBreakerBreakDuration"] = "00:01:00",
        });
        host.Sandbox.Faults.FailNext(100);
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<FulfilUnavailableException>(() => host.Client.GetAccountsByCodesAsync(["2350"]));
        }

        var sent = host.Sandbox.Faults.RequestCount;
        var open = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => host.Client.GetAccountsByCodesAsync(["2350"]));

        Assert.Equal(4, sent);
        Assert.Equal(UpstreamFailure.CircuitOpen, open.Reason);
        Assert.IsAssignableFrom<TransientIntegrationException>(open);
        Assert.Equal(sent, host.Sandbox.Faults.RequestCount);
        Assert.Contains(host.Logs.Lines, l => l.Contains("circuit opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Wrong_api_key_is_a_permanent_auth_error_that_names_the_setting_not_the_key()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["Fulfil:ApiKey"] = "sk_wrong_secret_123" });

        var error = await Assert.ThrowsAsync<FulfilAuthenticationException>(() => host.Client.GetLocationsByCodesAsync(["QUAR"]));

        Assert.IsAssignableFrom<PermanentIntegrationException>(error);
        Assert.Equal(401, error.StatusCode);
        Assert.Contains("Fulfil__ApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_wrong_secret_123", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Sandbox.Faults.RequestCount);
        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("sk_wrong_secret_123", StringComparison.Ordinal));
        Assert.Contains(host.Logs.Lines, l => l.Contains("-> 401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bearer_mode_sends_the_token_as_authorization()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["Fulfil:AuthMode"] = "Bearer" });

        var accounts = await host.Client.GetAccountsByCodesAsync(["2350", "2400"]);

        Assert.Equal(2, accounts.Count);
    }

    [Fact]
    public async Task Missing_record_is_a_permanent_not_found_tried_once()
    {
        await using var host = await FulfilTestHost.StartAsync();

        await Assert.ThrowsAsync<FulfilNotFoundException>(() => host.Http.ReadAsync<System.Text.Json.JsonElement>("sale.sale", 424242));

        Assert.Equal(1, host.Sandbox.Faults.RequestCount);
    }

    [Fact]
    public async Task Search_read_pages_through_all_results_with_offset_and_limit()
    {
        await using var host = await FulfilTestHost.StartAsync(new Dictionary<string, string?> { ["Fulfil:PageSize"] = "2" });
        string[] skus = ["TEE-BLK-M", "TEE-BLK-L", "HOOD/GRY:XL", "CAP/RED:OS", "SOCK-3PK", "JEANS-32/32", "TEE-2019-RETIRED"];

        var products = await host.Client.GetProductsBySkusAsync(skus);

        Assert.Equal(skus.Order(StringComparer.Ordinal), products.Select(p => p.Sku).Order(StringComparer.Ordinal));
        Assert.Equal(products.Count, products.Select(p => p.Id).Distinct().Count());
        Assert.Equal(4, host.Sandbox.RequestCount("PUT", "product.product/search_read"));
    }

    [Fact]
    public void Retry_after_is_read_as_delta_seconds_or_http_date()
    {
        var now = new DateTimeOffset(2025, 1, 15, 12, 0, 0, TimeSpan.Zero);
        using var delta = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        delta.Headers.TryAddWithoutValidation("Retry-After", "7");
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.TryAddWithoutValidation("Retry-After", "Wed, 15 Jan 2025 12:00:30 GMT");
        using var none = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.Equal(TimeSpan.FromSeconds(7), HttpResiliencePipelines.RetryAfter(delta, now));
        Assert.Equal(TimeSpan.FromSeconds(30), HttpResiliencePipelines.RetryAfter(date, now));
        Assert.Null(HttpResiliencePipelines.RetryAfter(none, now));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.Conflict, false)]
    [InlineData(HttpStatusCode.UnprocessableEntity, false)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.GatewayTimeout, true)]
    public void Only_transient_statuses_are_retryable(HttpStatusCode status, bool transient) =>
        Assert.Equal(transient, HttpResiliencePipelines.IsTransientStatus(status));
}
