using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace LoopFulfil.Core.Http;

/// <summary>Whether a request that arrives twice can do its work twice.</summary>
public enum RequestRepeatability
{
    /// <summary>
    /// Reads, searches and writes whose second arrival changes nothing (an absolute value set, an upsert by external
    /// id). Retried on every transient outcome.
    /// </summary>
    Repeatable,

    /// <summary>
    /// Creates and state-changing method calls (<c>POST model/…</c>, <c>post</c>, <c>confirm</c>, <c>process</c>,
    /// <c>return_order</c>, Loop's process/flag/note). Retried only when the request provably never reached the
    /// server; any unclear outcome surfaces to the caller, whose next attempt starts from its look-up.
    /// </summary>
    NotRepeatable,
}

/// <summary>What the retry strategy does with one attempt's outcome.</summary>
public enum RetryVerdict
{
    /// <summary>Success, or a failure no retry can fix (4xx): the answer goes to the caller as it is.</summary>
    Final,

    /// <summary>Try again after the backoff (or the server's Retry-After).</summary>
    Retry,

    /// <summary>
    /// The request may have been applied (timeout, 5xx, connection lost after sending) and is not repeatable: stop
    /// here; the caller sees a transient error and must look the result up before trying again.
    /// </summary>
    Unclear,
}

/// <summary>
/// The one place that decides which outcome of which request is retried in-process. The request's class rides on
/// <see cref="HttpRequestMessage.Options"/>: clients set it per call (<see cref="MarkRepeatable"/>); without a mark,
/// GET/HEAD/OPTIONS are repeatable and every other method is not (Fulfil's PUT is a method call, not a replace).
/// </summary>
public static class RequestRepeatabilities
{
    /// <summary>The option key a client sets on the request.</summary>
    public static readonly HttpRequestOptionsKey<RequestRepeatability> Key = new("LoopFulfil.Repeatability");

    /// <summary>Marks <paramref name="request"/> and returns it.</summary>
    public static HttpRequestMessage MarkRepeatable(this HttpRequestMessage request, RequestRepeatability repeatability)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(Key, repeatability);
        return request;
    }

    /// <summary>The request's class: its mark, else by method.</summary>
    public static RequestRepeatability Of(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return RequestRepeatability.NotRepeatable;
        }

        if (request.Options.TryGetValue(Key, out var marked))
        {
            return marked;
        }

        return request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options
            ? RequestRepeatability.Repeatable
            : RequestRepeatability.NotRepeatable;
    }

    /// <summary>
    /// Classifies one attempt. Never-sent failures (no connection could be made) and 429 with a
    /// Retry-After within <paramref name="maxRetryAfter"/> are retried for every request: the server did nothing.
    /// Timeouts, 408/5xx and a connection lost after sending are retried only for repeatable requests.
    /// </summary>
    public static RetryVerdict Classify(RequestRepeatability repeatability, Outcome<HttpResponseMessage> outcome, TimeSpan maxRetryAfter, DateTimeOffset now)
    {
        var repeatable = repeatability == RequestRepeatability.Repeatable;
        if (outcome.Exception is { } error)
        {
            if (error is BrokenCircuitException)
            {
                // Not sent, but retrying inside the break only burns the backoff: the caller redelivers after it.
                return RetryVerdict.Final;
            }

            if (NeverSent(error))
            {
                return RetryVerdict.Retry;
            }

            if (error is HttpRequestException or TimeoutRejectedException or TimeoutException)
            {
                return repeatable ? RetryVerdict.Retry : RetryVerdict.Unclear;
            }

            return RetryVerdict.Final;
        }

        var response = outcome.Result!;
        if (!HttpResiliencePipelines.IsTransientStatus(response.StatusCode))
        {
            return RetryVerdict.Final;
        }

        var wait = HttpResiliencePipelines.RetryAfter(response, now);
        if (wait > maxRetryAfter)
        {
            // Longer than we hold a worker: the caller gets the wait and the message is redelivered after it.
            return repeatable || response.StatusCode == HttpStatusCode.TooManyRequests ? RetryVerdict.Final : RetryVerdict.Unclear;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests && wait is not null)
        {
            // Refused by the rate limiter with an explicit wait: nothing was done.
            return RetryVerdict.Retry;
        }

        return repeatable ? RetryVerdict.Retry : RetryVerdict.Unclear;
    }

    /// <summary>
    /// True only for failures that happen before a byte of the request is written: name resolution, connecting
    /// (refused, unreachable), the TLS handshake, and an open circuit. A reset or an early end of the response
    /// may come after the server acted, so it is not here.
    /// </summary>
    public static bool NeverSent(Exception error) => error switch
    {
        BrokenCircuitException => true,
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError } => true,
        _ => false,
    };
}
