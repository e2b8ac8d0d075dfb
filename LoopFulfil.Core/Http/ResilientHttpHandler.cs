using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Errors;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace LoopFulfil.Core.Http;

/// <summary>Why a call failed without an HTTP answer.</summary>
public enum UpstreamFailure
{
    /// <summary>An attempt or the whole call ran out of time.</summary>
    Timeout,

    /// <summary>The circuit breaker is open: the call was not sent.</summary>
    CircuitOpen,

    /// <summary>No connection could be made (refused, unreachable, DNS, TLS): the request was never sent.</summary>
    ConnectionFailed,

    /// <summary>The connection was reset or closed after the request was sent: it may have been applied.</summary>
    ConnectionLost,
}

/// <summary>The remote API could not be reached (after retries). Transient: redeliver later.</summary>
public sealed class UpstreamUnavailableException : TransientIntegrationException
{
    public UpstreamUnavailableException(string client, UpstreamFailure reason, string path, TimeSpan? retryAfter, Exception? inner)
        : base($"{client} {path}: {Text(reason)}.", inner, retryAfter)
    {
        Client = client;
        Reason = reason;
    }

    public UpstreamUnavailableException() : this("HTTP", UpstreamFailure.ConnectionFailed, "", null, null) { }

    public UpstreamUnavailableException(string message) : base(message) => Client = "HTTP";

    public UpstreamUnavailableException(string message, Exception innerException) : base(message, innerException) => Client = "HTTP";

    public string Client { get; }

    public UpstreamFailure Reason { get; }

    /// <summary>
    /// True when a non-repeatable call (a create or method call) may have been applied before it failed: the caller's
    /// next attempt must find the result by its deterministic reference before trying again.
    /// </summary>
    public bool MayHaveBeenApplied { get; init; }

    private static string Text(UpstreamFailure reason) => reason switch
    {
        UpstreamFailure.Timeout => "timed out",
        UpstreamFailure.CircuitOpen => "circuit open after repeated failures; call not sent",
        UpstreamFailure.ConnectionLost => "connection lost after sending; the call may have been applied",
        _ => "connection failed",
    };
}

/// <summary>
/// The outer handler of a resilient client: it counts the attempts, lets the resilience handler inside it
/// (<c>Microsoft.Extensions.Http.Resilience</c>'s <c>ResilienceHandler</c> running the client's pipeline) retry,
/// and turns what still fails without an HTTP answer into <see cref="UpstreamUnavailableException"/>. Responses
/// (including final 4xx/5xx ones) are returned for the client to map with its API's error body. Logs client, method,
/// path, status, attempts and elapsed time only.
/// </summary>
public sealed partial class ResilientHttpHandler : DelegatingHandler
{
    /// <summary>Attempts made for one call, counted by <see cref="UpstreamAttemptHandler"/>.</summary>
    internal static readonly HttpRequestOptionsKey<StrongBox<int>> AttemptsKey = new("LoopFulfil.Attempts");

    private readonly string _clientName;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public ResilientHttpHandler(string clientName, TimeProvider timeProvider, ILogger? logger = null)
    {
        _clientName = clientName;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// The three handlers of a resilient client, outermost first, chained onto <paramref name="inner"/>: this one,
    /// the resilience handler with <paramref name="pipeline"/>, and the per-attempt handler.
    /// </summary>
    public static DelegatingHandler Chain(ResiliencePipeline<HttpResponseMessage> pipeline, string clientName, TimeProvider timeProvider, HttpMessageHandler inner, ILogger? logger = null, LoopFulfilMetrics? metrics = null) =>
        new ResilientHttpHandler(clientName, timeProvider, logger)
        {
            InnerHandler = new ResilienceHandler(pipeline)
            {
                InnerHandler = new UpstreamAttemptHandler(clientName, timeProvider, metrics) { InnerHandler = inner },
            },
        };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.RequestUri?.AbsolutePath ?? "";
        var started = _timeProvider.GetTimestamp();
        var attempts = new StrongBox<int>();
        request.Options.Set(AttemptsKey, attempts);
        HttpResponseMessage result;
        try
        {
            result = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException or TimeoutException or ExecutionRejectedException)
        {
            LogFailed(_logger, _clientName, request.Method.Method, path, error.GetType().Name, attempts.Value, (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds);
            throw Translate(error, path, RequestRepeatabilities.Of(request), cancellationToken);
        }

        var elapsed = (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;
        if (result.IsSuccessStatusCode)
        {
            LogCompleted(_logger, _clientName, request.Method.Method, path, (int)result.StatusCode, attempts.Value, elapsed);
        }
        else
        {
            LogUnsuccessful(_logger, _clientName, request.Method.Method, path, (int)result.StatusCode, attempts.Value, elapsed);
        }

        return result;
    }

    private Exception Translate(Exception error, string path, RequestRepeatability repeatability, CancellationToken callerToken)
    {
        switch (error)
        {
            case OperationCanceledException when callerToken.IsCancellationRequested:
                // The caller gave up; that is not the remote side's failure.
                ExceptionDispatchInfo.Capture(error).Throw();
                return error;
            case BrokenCircuitException broken:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.CircuitOpen, path, broken.RetryAfter, broken);
            case TimeoutRejectedException or OperationCanceledException or TimeoutException:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.Timeout, path, null, error) { MayHaveBeenApplied = repeatability == RequestRepeatability.NotRepeatable };
            case HttpRequestException when RequestRepeatabilities.NeverSent(error):
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.ConnectionFailed, path, null, error);
            case HttpRequestException:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.ConnectionLost, path, null, error) { MayHaveBeenApplied = repeatability == RequestRepeatability.NotRepeatable };
            default:
                ExceptionDispatchInfo.Capture(error).Throw();
                return error;
        }
    }

    [LoggerMessage(EventId = 7110, Level = LogLevel.Debug, Message = "{Client} {Method} {Path} -> {Status} after {Attempts} attempt(s), {ElapsedMs} ms")]
    private static partial void LogCompleted(ILogger logger, string client, string method, string path, int status, int attempts, long elapsedMs);

    [LoggerMessage(EventId = 7111, Level = LogLevel.Warning, Message = "{Client} {Method} {Path} -> {Status} after {Attempts} attempt(s), {ElapsedMs} ms")]
    private static partial void LogUnsuccessful(ILogger logger, string client, string method, string path, int status, int attempts, long elapsedMs);

    [LoggerMessage(EventId = 7112, Level = LogLevel.Warning, Message = "{Client} {Method} {Path} failed with {Error} after {Attempts} attempt(s), {ElapsedMs} ms")]
    private static partial void LogFailed(ILogger logger, string client, string method, string path, string error, int attempts, long elapsedMs);
}

/// <summary>
/// Innermost of the three: one attempt. Counts it for the outer handler's log and records its latency and status
/// (0: no answer), so 429s and slow answers hidden by a successful retry still show.
/// </summary>
public sealed class UpstreamAttemptHandler : DelegatingHandler
{
    private readonly string _clientName;
    private readonly TimeProvider _timeProvider;
    private readonly LoopFulfilMetrics _metrics;

    public UpstreamAttemptHandler(string clientName, TimeProvider timeProvider, LoopFulfilMetrics? metrics = null)
    {
        _clientName = clientName;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = metrics ?? LoopFulfilMetrics.Shared;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Options.TryGetValue(ResilientHttpHandler.AttemptsKey, out var attempts))
        {
            attempts.Value++;
        }

        var started = _timeProvider.GetTimestamp();
        var status = 0;
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
            return response;
        }
        finally
        {
            _metrics.UpstreamAttempt(_clientName, status, _timeProvider.GetElapsedTime(started));
        }
    }
}
