using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Sandbox.Hosting;

/// <summary>
/// Faults a simulated API injects, changeable at run time by tests (and by <c>POST /_sandbox/faults</c>).
/// Counters let a test fail exactly the next N requests, which keeps tests deterministic.
/// </summary>
public sealed class FaultInjection
{
    private readonly Lock _gate = new();
    private readonly Random _random;
    private int _rateLimitNext;
    private int _errorNext;
    private int _timeoutNext;

    public FaultInjection(int seed = 12345) => _random = new Random(seed);

    /// <summary>Seconds sent in Retry-After with injected 429s.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Fraction (0–1) of requests answered 500 or 503 at random.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Added to every request.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>How long an injected timeout stalls before the connection is aborted.</summary>
    public TimeSpan TimeoutStall { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Total requests seen (including faulted ones), for assertions on retry counts.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    private int _requestCount;

    /// <summary>The next <paramref name="count"/> requests get 429 with Retry-After.</summary>
    public void RateLimitNext(int count) { lock (_gate) { _rateLimitNext = count; } }

    /// <summary>The next <paramref name="count"/> requests get 503.</summary>
    public void FailNext(int count) { lock (_gate) { _errorNext = count; } }

    /// <summary>The next <paramref name="count"/> requests stall for <see cref="TimeoutStall"/> and are aborted.</summary>
    public void TimeOutNext(int count) { lock (_gate) { _timeoutNext = count; } }

    public void Reset()
    {
        lock (_gate)
        {
            _rateLimitNext = _errorNext = _timeoutNext = 0;
            ErrorRate = 0;
            Latency = TimeSpan.Zero;
        }
    }

    internal FaultKind Next()
    {
        Interlocked.Increment(ref _requestCount);
        lock (_gate)
        {
            if (_timeoutNext > 0) { _timeoutNext--; return FaultKind.Timeout; }
            if (_rateLimitNext > 0) { _rateLimitNext--; return FaultKind.RateLimited; }
            if (_errorNext > 0) { _errorNext--; return FaultKind.ServerError; }
            if (ErrorRate > 0 && _random.NextDouble() < ErrorRate) { return FaultKind.ServerError; }
            return FaultKind.None;
        }
    }

    internal enum FaultKind { None, RateLimited, ServerError, Timeout }
}

public static class FaultInjectionExtensions
{
    /// <summary>Applies <paramref name="faults"/> to every request except the sandbox's own admin routes (<c>/_sandbox/…</c>).</summary>
    public static void UseFaultInjection(this WebApplication app, FaultInjection faults)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(faults);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/_sandbox", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, context.RequestAborted);
            }

            switch (faults.Next())
            {
                case FaultInjection.FaultKind.RateLimited:
                    context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    context.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    await context.Response.WriteAsJsonAsync(new { message = "Too Many Requests" });
                    return;
                case FaultInjection.FaultKind.ServerError:
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    await context.Response.WriteAsync("Service Unavailable (injected)");
                    return;
                case FaultInjection.FaultKind.Timeout:
                    try
                    {
                        await Task.Delay(faults.TimeoutStall, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        // The client gave up first, which is the point.
                    }

                    context.Abort();
                    return;
                default:
                    await next(context);
                    return;
            }
        });

        app.MapPost("/_sandbox/faults", (FaultSettings s) =>
        {
            faults.Reset();
            faults.ErrorRate = s.ErrorRate;
            faults.Latency = TimeSpan.FromMilliseconds(s.LatencyMs);
            faults.RetryAfterSeconds = s.RetryAfterSeconds ?? faults.RetryAfterSeconds;
            faults.RateLimitNext(s.RateLimitNext);
            faults.FailNext(s.FailNext);
            faults.TimeOutNext(s.TimeoutNext);
            return Results.NoContent();
        });
    }

    public sealed record FaultSettings(double ErrorRate, int LatencyMs, int RateLimitNext, int FailNext, int TimeoutNext, int? RetryAfterSeconds);
}
