using System.Threading.RateLimiting;

namespace LoopFulfil.Core.Loop;

/// <summary>
/// Waits for a <see cref="LoopRateLimiter"/> permit for the request's <c>X-Authorization</c> key before sending, and
/// returns it when the response (or the attempt's failure) is in: the permit counts against the window from then, which
/// keeps the limit exact as Loop counts arrivals. Place it inside any retry handler so that every attempt, retries
/// included, counts against the limit, and outside the per-attempt timeout so a lease is never held past it.
/// </summary>
public sealed class LoopRateLimitHandler : DelegatingHandler
{
    private readonly LoopRateLimiter _limiter;

    public LoopRateLimitHandler(LoopRateLimiter limiter) => _limiter = limiter;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var apiKey = request.Headers.TryGetValues(LoopClient.AuthorizationHeader, out var values)
            ? values.FirstOrDefault() ?? string.Empty
            : string.Empty;
        using var lease = await _limiter.AcquireAsync(apiKey, cancellationToken);
        if (!lease.IsAcquired)
        {
            lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
            throw new LoopUnavailableException("No Loop rate-limit permit was available.", null, retryAfter);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// Bounds one attempt (not the wait for a rate-limit permit, nor the whole retry sequence) and turns expiry into a
/// <see cref="TimeoutException"/>, which retry handlers and <see cref="LoopClient"/> treat as transient.
/// </summary>
public sealed class LoopAttemptTimeoutHandler : DelegatingHandler
{
    private readonly TimeSpan _timeout;

    public LoopAttemptTimeoutHandler(TimeSpan timeout) => _timeout = timeout;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(_timeout);
        try
        {
            return await base.SendAsync(request, attempt.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Loop did not answer within {_timeout.TotalSeconds:0.#} s.", ex);
        }
    }
}
