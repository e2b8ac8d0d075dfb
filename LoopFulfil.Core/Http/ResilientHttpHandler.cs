using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using LoopFulfil.Core.Errors;
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

    /// <summary>Connection refused, reset, DNS failure.</summary>
    ConnectionFailed,
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

    private static string Text(UpstreamFailure reason) => reason switch
    {
        UpstreamFailure.Timeout => "timed out",
        UpstreamFailure.CircuitOpen => "circuit open after repeated failures; call not sent",
        _ => "connection failed",
    };
}

/// <summary>
/// Runs every request through a shared <see cref="ResiliencePipeline{HttpResponseMessage}"/>. Responses (including
/// final 4xx/5xx ones) are returned for the client to map with its API's error body; failures without a response
/// become <see cref="UpstreamUnavailableException"/>. Logs client, method, path, status, attempts and elapsed time only.
/// </summary>
public sealed partial class ResilientHttpHandler : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly string _clientName;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public ResilientHttpHandler(ResiliencePipeline<HttpResponseMessage> pipeline, string clientName, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _pipeline = pipeline;
        _clientName = clientName;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.RequestUri?.AbsolutePath ?? "";
        var started = _timeProvider.GetTimestamp();
        var attempts = new StrongBox<int>();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(HttpResiliencePipelines.RequestKey, request);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    state.Attempts.Value++;
                    try
                    {
                        var response = await state.Handler.SendOnceAsync(state.Request, ctx.CancellationToken).ConfigureAwait(false);
                        return Outcome.FromResult(response);
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                },
                context,
                (Handler: this, Request: request, Attempts: attempts)).ConfigureAwait(false);

            var elapsed = (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;
            if (outcome.Exception is { } error)
            {
                LogFailed(_logger, _clientName, request.Method.Method, path, error.GetType().Name, attempts.Value, elapsed);
                throw Translate(error, path, cancellationToken);
            }

            var result = outcome.Result!;
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
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    private Exception Translate(Exception error, string path, CancellationToken callerToken)
    {
        switch (error)
        {
            case OperationCanceledException when callerToken.IsCancellationRequested:
                // The caller gave up; that is not the remote side's failure.
                ExceptionDispatchInfo.Capture(error).Throw();
                return error;
            case BrokenCircuitException broken:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.CircuitOpen, path, broken.RetryAfter, broken);
            case TimeoutRejectedException or OperationCanceledException:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.Timeout, path, null, error);
            case HttpRequestException:
                return new UpstreamUnavailableException(_clientName, UpstreamFailure.ConnectionFailed, path, null, error);
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
