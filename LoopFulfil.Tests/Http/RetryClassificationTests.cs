using System.Net;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace LoopFulfil.Tests.Http;

/// <summary>Which outcome of which request the resilience pipeline retries in-process.</summary>
public sealed class RetryClassificationTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    public enum AttemptOutcome
    {
        Ok,
        BadRequest,
        Status503,
        Status500,
        Status408,
        Status429WithRetryAfter,
        Status429WithoutRetryAfter,
        Status429RetryAfterOverCap,
        ConnectionRefused,
        NameNotResolved,
        ResetAfterSending,
        AttemptTimedOut,
        LoopAttemptTimedOut,
        CircuitOpen,
    }

    [Theory]
    [InlineData(AttemptOutcome.Ok, RetryVerdict.Final, RetryVerdict.Final)]
    [InlineData(AttemptOutcome.BadRequest, RetryVerdict.Final, RetryVerdict.Final)]
    [InlineData(AttemptOutcome.Status503, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.Status500, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.Status408, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.Status429WithRetryAfter, RetryVerdict.Retry, RetryVerdict.Retry)]
    [InlineData(AttemptOutcome.Status429WithoutRetryAfter, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.Status429RetryAfterOverCap, RetryVerdict.Final, RetryVerdict.Final)]
    [InlineData(AttemptOutcome.ConnectionRefused, RetryVerdict.Retry, RetryVerdict.Retry)]
    [InlineData(AttemptOutcome.NameNotResolved, RetryVerdict.Retry, RetryVerdict.Retry)]
    [InlineData(AttemptOutcome.ResetAfterSending, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.AttemptTimedOut, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.LoopAttemptTimedOut, RetryVerdict.Retry, RetryVerdict.Unclear)]
    [InlineData(AttemptOutcome.CircuitOpen, RetryVerdict.Final, RetryVerdict.Final)]
    public void A_create_or_method_call_is_retried_only_when_it_never_reached_the_server(AttemptOutcome outcome, RetryVerdict repeatable, RetryVerdict notRepeatable)
    {
        Assert.Equal(repeatable, RequestRepeatabilities.Classify(RequestRepeatability.Repeatable, Make(outcome), Cap, Now));
        Assert.Equal(notRepeatable, RequestRepeatabilities.Classify(RequestRepeatability.NotRepeatable, Make(outcome), Cap, Now));
    }

    [Theory]
    [InlineData("GET", null, RequestRepeatability.Repeatable)]
    [InlineData("HEAD", null, RequestRepeatability.Repeatable)]
    [InlineData("POST", null, RequestRepeatability.NotRepeatable)]
    [InlineData("PUT", null, RequestRepeatability.NotRepeatable)]
    [InlineData("DELETE", null, RequestRepeatability.NotRepeatable)]
    [InlineData("PUT", RequestRepeatability.Repeatable, RequestRepeatability.Repeatable)]
    [InlineData("GET", RequestRepeatability.NotRepeatable, RequestRepeatability.NotRepeatable)]
    public void Unmarked_requests_are_repeatable_only_for_reading_methods_and_a_mark_wins(string method, RequestRepeatability? mark, RequestRepeatability expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "http://127.0.0.1/x");
        if (mark is { } m)
        {
            request.MarkRepeatable(m);
        }

        Assert.Equal(expected, RequestRepeatabilities.Of(request));
    }

    [Theory]
    [InlineData("search_read", RequestRepeatability.Repeatable)]
    [InlineData("search_count", RequestRepeatability.Repeatable)]
    [InlineData("read", RequestRepeatability.Repeatable)]
    [InlineData("write", RequestRepeatability.Repeatable)]
    [InlineData("post", RequestRepeatability.NotRepeatable)]
    [InlineData("confirm", RequestRepeatability.NotRepeatable)]
    [InlineData("quote", RequestRepeatability.NotRepeatable)]
    [InlineData("process", RequestRepeatability.NotRepeatable)]
    [InlineData("return_order", RequestRepeatability.NotRepeatable)]
    [InlineData("receive", RequestRepeatability.NotRepeatable)]
    [InlineData("assign_try", RequestRepeatability.NotRepeatable)]
    [InlineData("activate", RequestRepeatability.NotRepeatable)]
    public void Fulfil_method_calls_are_repeatable_only_when_they_read_or_set_absolute_values(string method, RequestRepeatability expected) =>
        Assert.Equal(expected, FulfilHttp.RepeatabilityOf(method));

    [Theory]
    [InlineData("GET", RequestRepeatability.Repeatable, 3)]
    [InlineData("POST", RequestRepeatability.NotRepeatable, 1)]
    public async Task Through_the_handler_a_503_is_resent_for_a_read_and_surfaces_at_once_for_a_create(string method, RequestRepeatability mark, int expectedAttempts)
    {
        var inner = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        using var client = Client(inner);
        using var request = new HttpRequestMessage(new HttpMethod(method), "model/account.invoice").MarkRepeatable(mark);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(expectedAttempts, inner.Calls);
    }

    [Fact]
    public async Task A_create_whose_connection_is_refused_is_resent_because_it_never_left()
    {
        var inner = new StubHandler(n => n < 3 ? throw new HttpRequestException(HttpRequestError.ConnectionError, "refused") : new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Client(inner);
        using var request = new HttpRequestMessage(HttpMethod.Post, "model/account.invoice").MarkRepeatable(RequestRepeatability.NotRepeatable);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, inner.Calls);
    }

    [Fact]
    public async Task A_create_whose_connection_drops_after_sending_surfaces_as_transient_that_may_have_been_applied()
    {
        var inner = new StubHandler(_ => throw new HttpRequestException(HttpRequestError.ResponseEnded, "ended"));
        using var client = Client(inner);
        using var request = new HttpRequestMessage(HttpMethod.Post, "model/account.invoice").MarkRepeatable(RequestRepeatability.NotRepeatable);

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => client.SendAsync(request));

        Assert.IsAssignableFrom<TransientIntegrationException>(error);
        Assert.Equal((UpstreamFailure.ConnectionLost, true), (error.Reason, error.MayHaveBeenApplied));
        Assert.Equal(1, inner.Calls);
    }

    private static HttpClient Client(StubHandler inner)
    {
        var options = new HttpResilienceOptions { MaxRetryAttempts = 2, BaseDelay = TimeSpan.Zero, UseJitter = false, CircuitBreakerEnabled = false };
        var handler = ResilientHttpHandler.Chain(HttpResiliencePipelines.Build("Test", options, TimeProvider.System), "Test", TimeProvider.System, inner);
        return new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1/") };
    }

    private static Outcome<HttpResponseMessage> Make(AttemptOutcome c) => c switch
    {
        AttemptOutcome.Ok => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.OK)),
        AttemptOutcome.BadRequest => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)),
        AttemptOutcome.Status503 => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)),
        AttemptOutcome.Status500 => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError)),
        AttemptOutcome.Status408 => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.RequestTimeout)),
        AttemptOutcome.Status429WithRetryAfter => Outcome.FromResult(WithRetryAfter(HttpStatusCode.TooManyRequests, "2")),
        AttemptOutcome.Status429WithoutRetryAfter => Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.TooManyRequests)),
        AttemptOutcome.Status429RetryAfterOverCap => Outcome.FromResult(WithRetryAfter(HttpStatusCode.TooManyRequests, "600")),
        AttemptOutcome.ConnectionRefused => Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "refused")),
        AttemptOutcome.NameNotResolved => Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.NameResolutionError, "no such host")),
        AttemptOutcome.ResetAfterSending => Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ResponseEnded, "ended")),
        AttemptOutcome.AttemptTimedOut => Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException()),
        AttemptOutcome.LoopAttemptTimedOut => Outcome.FromException<HttpResponseMessage>(new TimeoutException()),
        _ => Outcome.FromException<HttpResponseMessage>(new BrokenCircuitException()),
    };

    private static HttpResponseMessage WithRetryAfter(HttpStatusCode status, string seconds)
    {
        var response = new HttpResponseMessage(status);
        response.Headers.TryAddWithoutValidation("Retry-After", seconds);
        return response;
    }

    /// <summary>Answers attempt n (1-based) with <c>respond(n)</c>.</summary>
    private sealed class StubHandler(Func<int, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult(respond(Calls));
        }
    }
}
