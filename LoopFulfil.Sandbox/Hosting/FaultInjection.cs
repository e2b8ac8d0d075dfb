using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Sandbox.Hosting;

/// <summary>A fault <see cref="FaultInjection.InjectNext"/> puts on matching requests.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<SandboxFault>))]
public enum SandboxFault
{
    /// <summary>429 with Retry-After; the handler does not run.</summary>
    RateLimited,

    /// <summary>503; the handler does not run.</summary>
    ServerError,

    /// <summary>Stalls for <see cref="FaultInjection.TimeoutStall"/>, then aborts; the handler does not run.</summary>
    Timeout,

    /// <summary>The connection is reset once the request has arrived; the handler does not run (nothing committed).</summary>
    ResetBeforeCommit,

    /// <summary>The handler runs (the write commits), then its answer is replaced by 503.</summary>
    ServerErrorAfterCommit,

    /// <summary>The handler runs (the write commits), then the connection is dropped without an answer.</summary>
    DropAfterCommit,

    /// <summary>The handler runs (the write commits), then the answer stalls for <see cref="FaultInjection.TimeoutStall"/> and the connection is aborted.</summary>
    DelayAfterCommit,
}

/// <summary>
/// Faults a simulated API injects, changeable at run time by tests (and by <c>POST /_sandbox/faults</c>).
/// Counters let a test fail exactly the next N requests, which keeps tests deterministic; <see cref="InjectNext"/>
/// aims a fault at the next N requests with a given method and path ending (one create, one method call).
/// </summary>
public sealed class FaultInjection
{
    private readonly Lock _gate = new();
    private readonly List<FaultRule> _rules = [];
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

    /// <summary>
    /// The next <paramref name="count"/> requests whose method is <paramref name="method"/> (any when null) and whose
    /// path ends with <paramref name="pathEndsWith"/> (any when null; e.g. <c>model/account.invoice</c>,
    /// <c>account.invoice/post</c>, <c>/return_order</c>) get <paramref name="fault"/>. Rules are checked before
    /// the counters, oldest first; each is used up after its count.
    /// </summary>
    public void InjectNext(SandboxFault fault, int count = 1, string? method = null, string? pathEndsWith = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            _rules.Add(new FaultRule(fault, method, pathEndsWith) { Remaining = count });
        }
    }

    /// <summary>How many requests a rule has faulted so far, per fault kind (for assertions that the fault fired).</summary>
    public int Injected(SandboxFault fault)
    {
        lock (_gate)
        {
            return _injected.GetValueOrDefault(fault);
        }
    }

    private readonly Dictionary<SandboxFault, int> _injected = [];

    public void Reset()
    {
        lock (_gate)
        {
            _rules.Clear();
            _injected.Clear();
            _rateLimitNext = _errorNext = _timeoutNext = 0;
            ErrorRate = 0;
            Latency = TimeSpan.Zero;
        }
    }

    internal SandboxFault? Next(string method, string path)
    {
        Interlocked.Increment(ref _requestCount);
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (rule.Remaining > 0 && rule.Matches(method, path))
                {
                    rule.Remaining--;
                    _injected[rule.Fault] = _injected.GetValueOrDefault(rule.Fault) + 1;
                    return rule.Fault;
                }
            }

            if (_timeoutNext > 0) { _timeoutNext--; return SandboxFault.Timeout; }
            if (_rateLimitNext > 0) { _rateLimitNext--; return SandboxFault.RateLimited; }
            if (_errorNext > 0) { _errorNext--; return SandboxFault.ServerError; }
            if (ErrorRate > 0 && _random.NextDouble() < ErrorRate) { return SandboxFault.ServerError; }
            return null;
        }
    }

    private sealed record FaultRule(SandboxFault Fault, string? Method, string? PathEndsWith)
    {
        public int Remaining { get; set; }

        public bool Matches(string method, string path) =>
            (Method is null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
            && (PathEndsWith is null || path.EndsWith(PathEndsWith, StringComparison.Ordinal));
    }
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

            var fault = faults.Next(context.Request.Method, context.Request.Path.Value ?? "");
            switch (fault)
            {
                case SandboxFault.RateLimited:
                    context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    context.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    await context.Response.WriteAsJsonAsync(new { message = "Too Many Requests" });
                    return;
                case SandboxFault.ServerError:
                    await WriteUnavailableAsync(context.Response);
                    return;
                case SandboxFault.Timeout:
                    await StallAsync(faults, context);
                    context.Abort();
                    return;
                case SandboxFault.ResetBeforeCommit:
                    context.Abort();
                    return;
                case SandboxFault.ServerErrorAfterCommit or SandboxFault.DropAfterCommit or SandboxFault.DelayAfterCommit:
                    await RunAndDiscardAnswerAsync(context, next);
                    if (fault == SandboxFault.ServerErrorAfterCommit)
                    {
                        context.Response.Clear();
                        await WriteUnavailableAsync(context.Response);
                        return;
                    }

                    if (fault == SandboxFault.DelayAfterCommit)
                    {
                        await StallAsync(faults, context);
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
            foreach (var rule in s.Inject ?? [])
            {
                faults.InjectNext(rule.Fault, rule.Count, rule.Method, rule.PathEndsWith);
            }

            return Results.NoContent();
        });
    }

    /// <summary>Runs the rest of the pipeline (the write commits) into a buffer, so nothing of its answer reaches the client.</summary>
    private static async Task RunAndDiscardAnswerAsync(HttpContext context, RequestDelegate next)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
    }

    private static async Task StallAsync(FaultInjection faults, HttpContext context)
    {
        try
        {
            await Task.Delay(faults.TimeoutStall, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up first, which is the point.
        }
    }

    private static async Task WriteUnavailableAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        await response.WriteAsync("Service Unavailable (injected)");
    }

    /// <param name="Inject">Aimed faults (<see cref="FaultInjection.InjectNext"/>), e.g. <c>{"fault":"ServerErrorAfterCommit","count":1,"method":"POST","pathEndsWith":"model/account.invoice"}</c>.</param>
    public sealed record FaultSettings(double ErrorRate, int LatencyMs, int RateLimitNext, int FailNext, int TimeoutNext, int? RetryAfterSeconds, IReadOnlyList<FaultRuleSettings>? Inject = null);

    /// <summary>One aimed fault of <see cref="FaultSettings"/>.</summary>
    public sealed record FaultRuleSettings(SandboxFault Fault, int Count = 1, string? Method = null, string? PathEndsWith = null);
}
