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
/// The fault plan of a simulated API (its own middleware, <see cref="FaultInjectionExtensions.UseFaultInjection"/>)
/// or of the <see cref="Faults.FaultProxy"/> in front of a real server (Tryton's façade): one plan and one set of
/// kinds for both. Changeable at run time by tests (and by <c>POST /_sandbox/faults</c>). Counters let a test fail
/// exactly the next N requests, <see cref="InjectNext"/> aims a fault at the next N requests with a given method and
/// path ending, <see cref="InjectOnFirstOfEach"/> at the first of every distinct call, and the seeded rates fail a
/// share of all requests before or after commit (same seed and request order, same faults).
/// </summary>
public sealed class FaultInjection
{
    private readonly Lock _gate = new();
    private readonly List<FaultRule> _rules = [];
    private readonly Random _random;
    private readonly Dictionary<SandboxFault, int> _injected = [];
    private readonly List<string> _faultedCalls = [];
    private int _rateLimitNext;
    private int _errorNext;
    private int _timeoutNext;
    private int _requestCount;

    public FaultInjection(int seed = 12345) => _random = new Random(seed);

    /// <summary>Seconds sent in Retry-After with injected 429s.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Fraction (0–1) of requests answered 503 at random.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Fraction (0–1) of requests failed before they reach the handler: 429 with Retry-After, 503 or reset, in equal parts (seeded).</summary>
    public double BeforeCommitRate { get; set; }

    /// <summary>Fraction (0–1) of requests that run (commit) and are then answered 503, dropped or stalled, in equal parts (seeded).</summary>
    public double AfterCommitRate { get; set; }

    /// <summary>Added to every request.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>
    /// How long an injected timeout or after-commit stall is held before the connection is aborted; make it longer
    /// than the client's attempt timeout so the client's own timeout ends the stall.
    /// </summary>
    public TimeSpan TimeoutStall { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Total requests seen (including faulted ones), for assertions on retry counts.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

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
            _rules.Add(new FaultRule(fault, (m, p) => (method is null || string.Equals(method, m, StringComparison.OrdinalIgnoreCase))
                && (pathEndsWith is null || p.EndsWith(pathEndsWith, StringComparison.Ordinal))) { Remaining = count });
        }
    }

    /// <summary>
    /// The first request of every distinct call (method and path) that <paramref name="matches"/> gets
    /// <paramref name="fault"/>; repeats of that call pass. With an after-commit fault and a filter that picks the
    /// writes, every create and method call a flow makes commits once and is then failed.
    /// </summary>
    public void InjectOnFirstOfEach(SandboxFault fault, Func<string, string, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        lock (_gate)
        {
            _rules.Add(new FaultRule(fault, matches) { Remaining = int.MaxValue, Seen = new HashSet<string>(StringComparer.Ordinal) });
        }
    }

    /// <summary>How many requests got <paramref name="fault"/> so far, from rules, counters or rates (for assertions that it fired).</summary>
    public int Injected(SandboxFault fault)
    {
        lock (_gate)
        {
            return _injected.GetValueOrDefault(fault);
        }
    }

    /// <summary>Every faulted request as <c>"{fault} {method} {path}"</c>, in arrival order.</summary>
    public IReadOnlyList<string> FaultedCalls
    {
        get
        {
            lock (_gate)
            {
                return [.. _faultedCalls];
            }
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _rules.Clear();
            _injected.Clear();
            _faultedCalls.Clear();
            _rateLimitNext = _errorNext = _timeoutNext = 0;
            ErrorRate = BeforeCommitRate = AfterCommitRate = 0;
            Latency = TimeSpan.Zero;
        }
    }

    /// <summary>Throws when the rates are out of range.</summary>
    public void Validate()
    {
        if (ErrorRate is < 0 or > 1 || BeforeCommitRate is < 0 or > 1 || AfterCommitRate is < 0 or > 1 || BeforeCommitRate + AfterCommitRate > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BeforeCommitRate), $"Fault rates must be 0-1, before and after commit together at most 1 (error {ErrorRate}, before {BeforeCommitRate}, after {AfterCommitRate}).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(RetryAfterSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(TimeoutStall, TimeSpan.Zero);
    }

    internal SandboxFault? Next(string method, string path)
    {
        Interlocked.Increment(ref _requestCount);
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (rule.Remaining > 0 && rule.Matches(method, path) && (rule.Seen is null || rule.Seen.Add(method + " " + path)))
                {
                    rule.Remaining--;
                    return Fire(rule.Fault, method, path);
                }
            }

            if (_timeoutNext > 0) { _timeoutNext--; return Fire(SandboxFault.Timeout, method, path); }
            if (_rateLimitNext > 0) { _rateLimitNext--; return Fire(SandboxFault.RateLimited, method, path); }
            if (_errorNext > 0) { _errorNext--; return Fire(SandboxFault.ServerError, method, path); }
            if (ErrorRate > 0 && _random.NextDouble() < ErrorRate) { return Fire(SandboxFault.ServerError, method, path); }
            if (BeforeCommitRate + AfterCommitRate > 0)
            {
                var roll = _random.NextDouble();
                var pick = _random.Next(3);
                if (roll < BeforeCommitRate)
                {
                    return Fire(pick switch { 0 => SandboxFault.RateLimited, 1 => SandboxFault.ServerError, _ => SandboxFault.ResetBeforeCommit }, method, path);
                }

                if (roll < BeforeCommitRate + AfterCommitRate)
                {
                    return Fire(pick switch { 0 => SandboxFault.ServerErrorAfterCommit, 1 => SandboxFault.DropAfterCommit, _ => SandboxFault.DelayAfterCommit }, method, path);
                }
            }

            return null;
        }
    }

    private SandboxFault Fire(SandboxFault fault, string method, string path)
    {
        _injected[fault] = _injected.GetValueOrDefault(fault) + 1;
        _faultedCalls.Add($"{fault} {method} {path}");
        return fault;
    }

    private sealed record FaultRule(SandboxFault Fault, Func<string, string, bool> Matches)
    {
        public int Remaining { get; set; }

        /// <summary>Calls already faulted, for <see cref="InjectOnFirstOfEach"/> rules; null for counted rules.</summary>
        public HashSet<string>? Seen { get; init; }
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

            var fault = await FaultResponses.DecideAsync(faults, context);
            if (await FaultResponses.AnswerBeforeCommitAsync(faults, context, fault))
            {
                return;
            }

            if (fault is not (SandboxFault.ServerErrorAfterCommit or SandboxFault.DropAfterCommit or SandboxFault.DelayAfterCommit))
            {
                await next(context);
                return;
            }

            await RunAndDiscardAnswerAsync(context, next);
            await FaultResponses.AnswerAfterCommitAsync(faults, context, fault.Value);
        });

        app.MapPost("/_sandbox/faults", (FaultSettings s) =>
        {
            faults.Reset();
            faults.ErrorRate = s.ErrorRate;
            faults.BeforeCommitRate = s.BeforeCommitRate;
            faults.AfterCommitRate = s.AfterCommitRate;
            faults.Latency = TimeSpan.FromMilliseconds(s.LatencyMs);
            faults.RetryAfterSeconds = s.RetryAfterSeconds ?? faults.RetryAfterSeconds;
            faults.RateLimitNext(s.RateLimitNext);
            faults.FailNext(s.FailNext);
            faults.TimeOutNext(s.TimeoutNext);
            foreach (var rule in s.Inject ?? [])
            {
                faults.InjectNext(rule.Fault, rule.Count, rule.Method, rule.PathEndsWith);
            }

            faults.Validate();
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

    /// <param name="Inject">Aimed faults (<see cref="FaultInjection.InjectNext"/>), e.g. <c>{"fault":"ServerErrorAfterCommit","count":1,"method":"POST","pathEndsWith":"model/account.invoice"}</c>.</param>
    public sealed record FaultSettings(double ErrorRate, int LatencyMs, int RateLimitNext, int FailNext, int TimeoutNext, int? RetryAfterSeconds, IReadOnlyList<FaultRuleSettings>? Inject = null, double BeforeCommitRate = 0, double AfterCommitRate = 0);

    /// <summary>One aimed fault of <see cref="FaultSettings"/>.</summary>
    public sealed record FaultRuleSettings(SandboxFault Fault, int Count = 1, string? Method = null, string? PathEndsWith = null);
}

/// <summary>
/// What a fault does to the client, the same whether a sandbox's middleware or the <see cref="Faults.FaultProxy"/>
/// in front of a real server injects it: the executor only decides how the request reaches the server.
/// </summary>
internal static class FaultResponses
{
    /// <summary>Applies the plan's latency, then takes its decision for this request.</summary>
    public static async Task<SandboxFault?> DecideAsync(FaultInjection faults, HttpContext context)
    {
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, context.RequestAborted);
        }

        return faults.Next(context.Request.Method, context.Request.Path.Value ?? "");
    }

    /// <summary>Answers a fault that keeps the request from the server; false when the request must go on (no fault, or an after-commit one).</summary>
    public static async Task<bool> AnswerBeforeCommitAsync(FaultInjection faults, HttpContext context, SandboxFault? fault)
    {
        switch (fault)
        {
            case SandboxFault.RateLimited:
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsJsonAsync(new { message = "Too Many Requests" });
                return true;
            case SandboxFault.ServerError:
                await WriteUnavailableAsync(context.Response);
                return true;
            case SandboxFault.Timeout:
                await StallAsync(faults, context);
                context.Abort();
                return true;
            case SandboxFault.ResetBeforeCommit:
                context.Abort();
                return true;
            default:
                return false;
        }
    }

    /// <summary>After the server has answered (it committed) and its answer was discarded: 503, a dropped connection, or a stall and then a drop.</summary>
    public static async Task AnswerAfterCommitAsync(FaultInjection faults, HttpContext context, SandboxFault fault)
    {
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
}
