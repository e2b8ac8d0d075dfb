using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace LoopFulfil.Core.Http;

/// <summary>
/// Builds the outbound HTTP pipeline run by <c>Microsoft.Extensions.Http.Resilience</c>'s <c>ResilienceHandler</c>:
/// total timeout → retry (exponential backoff + jitter, <c>Retry-After</c> honoured up to a cap) → circuit breaker →
/// per-attempt timeout. What is retried depends on the request (<see cref="RequestRepeatabilities.Classify"/>):
/// a repeatable request on 408, 429, 5xx, connection failures and attempt timeouts; a create or method call only when
/// it never reached the server (no connection, 429 with Retry-After). 400/401/403/404/409/422 never are.
/// </summary>
public static partial class HttpResiliencePipelines
{
    /// <summary>Builds a pipeline. Keep one per remote API for the process lifetime: the circuit lives in it.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Build(string name, HttpResilienceOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var log = logger ?? NullLogger.Instance;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = name, TimeProvider = timeProvider };

        if (options.TotalTimeout > TimeSpan.Zero)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.TotalTimeout, Name = "total" });
        }

        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.UseJitter,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome, options.MaxRetryAfter, timeProvider.GetUtcNow(), log, name)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } r ? RetryAfter(r, timeProvider.GetUtcNow()) : null),
                OnRetry = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    LogRetry(log, name, request?.Method.Method ?? "?", request?.RequestUri?.AbsolutePath ?? "?", args.AttemptNumber + 1, Describe(args.Outcome), (long)args.Duration.TotalMilliseconds, (long)args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            });
        }

        if (options.CircuitBreakerEnabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = Math.Max(2, options.CircuitBreakerMinimumThroughput),
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                // Rate limiting says nothing about the remote side's health, so 429 does not count as a failure.
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
                OnOpened = args =>
                {
                    LogCircuitOpened(log, name, (long)args.BreakDuration.TotalSeconds, Describe(args.Outcome));
                    return default;
                },
                OnClosed = _ =>
                {
                    LogCircuitClosed(log, name);
                    return default;
                },
            });
        }

        if (options.AttemptTimeout > TimeSpan.Zero)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.AttemptTimeout, Name = "attempt" });
        }

        return builder.Build();
    }

    /// <summary>True for statuses that a later attempt may turn into a success.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// The wait a response asks for in <c>Retry-After</c> (delta-seconds or HTTP-date relative to <paramref name="now"/>), or null.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(response);
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static bool ShouldRetry(ResilienceContext context, Outcome<HttpResponseMessage> outcome, TimeSpan maxRetryAfter, DateTimeOffset now, ILogger log, string name)
    {
        var request = context.GetRequestMessage();
        var verdict = RequestRepeatabilities.Classify(RequestRepeatabilities.Of(request), outcome, maxRetryAfter, now);
        if (verdict == RetryVerdict.Unclear)
        {
            LogUnclear(log, name, request?.Method.Method ?? "?", request?.RequestUri?.AbsolutePath ?? "?", Describe(outcome));
        }

        return verdict == RetryVerdict.Retry;
    }

    private static bool IsFailure(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || (outcome.Result is { } r && r.StatusCode != HttpStatusCode.TooManyRequests && IsTransientStatus(r.StatusCode));

    internal static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } ex ? ex.GetType().Name : ((int)outcome.Result!.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "{Client} {Method} {Path} attempt {Attempt} got {Outcome} after {ElapsedMs} ms; retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string client, string method, string path, int attempt, string outcome, long elapsedMs, long delayMs);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Warning, Message = "{Client} {Method} {Path} got {Outcome}; it may have been applied and is not repeatable, so it is not retried here")]
    private static partial void LogUnclear(ILogger logger, string client, string method, string path, string outcome);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Error, Message = "{Client} circuit opened for {BreakSeconds} s after {Outcome}")]
    private static partial void LogCircuitOpened(ILogger logger, string client, long breakSeconds, string outcome);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "{Client} circuit closed")]
    private static partial void LogCircuitClosed(ILogger logger, string client);
}

/// <summary>
/// One pipeline per client name for the life of the process. <c>IHttpClientFactory</c> recycles handlers every
/// few minutes; keeping the pipeline here keeps the circuit breaker's memory across that.
/// </summary>
public sealed class HttpResiliencePipelineProvider
{
    private readonly ConcurrentDictionary<string, Lazy<ResiliencePipeline<HttpResponseMessage>>> _pipelines = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<HttpResilienceOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;

    public HttpResiliencePipelineProvider(IOptionsMonitor<HttpResilienceOptions> options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _options = options;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
    }

    public ResiliencePipeline<HttpResponseMessage> Get(string clientName) =>
        _pipelines.GetOrAdd(clientName, n => new Lazy<ResiliencePipeline<HttpResponseMessage>>(() =>
            HttpResiliencePipelines.Build(n, _options.Get(n), _timeProvider, _loggerFactory.CreateLogger("LoopFulfil.Http." + n)))).Value;
}
