using System.Globalization;
using System.Net;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace LoopFulfil.Sandbox.Faults;

/// <summary>
/// A YARP reverse proxy on loopback in front of one server (a sandbox, Tryton's façade, Azurite) that fails a seeded
/// random share of requests either <b>before</b> they reach the server (429 with Retry-After, 503, connection reset)
/// or <b>after</b> the server has committed them (the request is forwarded and answered, then the client gets 503, a
/// dropped connection, or a stall until its own timeout, instead). The second kind is what a client cannot tell from a lost request, so it is the
/// fault that shows whether every write is safe to repeat. With both rates 0 it only counts requests.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly LoopbackApp _app;
    private readonly HttpMessageInvoker _invoker;
    private readonly long[] _counts = new long[Enum.GetValues<ProxyFault>().Length];

    private FaultProxy(LoopbackApp app, HttpMessageInvoker invoker)
    {
        _app = app;
        _invoker = invoker;
    }

    /// <summary>Where clients send requests, e.g. http://127.0.0.1:53123/ (paths are kept as sent).</summary>
    public Uri BaseAddress => _app.BaseAddress;

    /// <summary>Every request received, faulted or not.</summary>
    public long RequestCount => _counts.Sum(c => Interlocked.Read(ref c));

    /// <summary>Requests handled with <paramref name="fault"/>.</summary>
    public long Count(ProxyFault fault) => Interlocked.Read(ref _counts[(int)fault]);

    /// <summary>Starts a proxy that forwards to <paramref name="destination"/> (scheme, host and port; the request path is appended).</summary>
    public static async Task<FaultProxy> StartAsync(Uri destination, FaultProxyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var prefix = destination.GetLeftPart(UriPartial.Authority);
        var decisions = new Decisions(options);
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        });
        FaultProxy? proxy = null;
        var requestConfig = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
        try
        {
            var app = await LoopbackApp.StartAsync(
                services => services.AddHttpForwarder(),
                app => app.Map("/{**path}", async (HttpContext context, IHttpForwarder forwarder) =>
                {
                    var fault = decisions.Next();
                    Interlocked.Increment(ref proxy!._counts[(int)fault]);
                    switch (fault)
                    {
                        case ProxyFault.RateLimitedBeforeCommit:
                            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                            return;
                        case ProxyFault.UnavailableBeforeCommit:
                            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                            return;
                        case ProxyFault.ResetBeforeCommit:
                            context.Abort();
                            return;
                        default:
                            await forwarder.SendAsync(context, prefix, invoker, requestConfig, AfterCommitTransformer.For(fault, options.StallFor));
                            return;
                    }
                }),
                options.Port,
                cancellationToken);
            proxy = new FaultProxy(app, invoker);
            return proxy;
        }
        catch
        {
            invoker.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _invoker.Dispose();
    }

    /// <summary>Seeded decisions, one per request in arrival order.</summary>
    private sealed class Decisions(FaultProxyOptions options)
    {
        private readonly Lock _gate = new();
        private readonly Random _random = new(options.Seed);

        public ProxyFault Next()
        {
            double roll;
            int pick;
            lock (_gate)
            {
                roll = _random.NextDouble();
                pick = _random.Next(6);
            }

            if (roll < options.BeforeCommitRate)
            {
                return (pick % 3) switch
                {
                    0 => ProxyFault.RateLimitedBeforeCommit,
                    1 => ProxyFault.UnavailableBeforeCommit,
                    _ => ProxyFault.ResetBeforeCommit,
                };
            }

            return roll < options.BeforeCommitRate + options.AfterCommitRate
                ? (pick % 3) switch
                {
                    0 => ProxyFault.UnavailableAfterCommit,
                    1 => ProxyFault.DroppedAfterCommit,
                    _ => ProxyFault.StalledAfterCommit,
                }
                : ProxyFault.None;
        }
    }

    /// <summary>
    /// Forwards the request target exactly as received, then relays the response, or (after-commit faults) reads it
    /// to the end and answers 503, drops the connection, or stalls until the client gives up and then drops it.
    /// </summary>
    private sealed class AfterCommitTransformer(ProxyFault fault, TimeSpan stallFor) : HttpTransformer
    {
        private static readonly AfterCommitTransformer Relay = new(ProxyFault.None, TimeSpan.Zero);
        private static readonly AfterCommitTransformer Unavailable = new(ProxyFault.UnavailableAfterCommit, TimeSpan.Zero);
        private static readonly AfterCommitTransformer Dropped = new(ProxyFault.DroppedAfterCommit, TimeSpan.Zero);

        public static AfterCommitTransformer For(ProxyFault fault, TimeSpan stallFor) => fault switch
        {
            ProxyFault.UnavailableAfterCommit => Unavailable,
            ProxyFault.DroppedAfterCommit => Dropped,
            ProxyFault.StalledAfterCommit => new(fault, stallFor),
            _ => Relay,
        };

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

            // Storage signatures cover the path as the client escaped it: send the raw target, not a re-encoded one.
            if (httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/')
            {
                proxyRequest.RequestUri = new Uri(destinationPrefix.TrimEnd('/') + raw, UriKind.Absolute);
            }
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (fault == ProxyFault.None || proxyResponse is null)
            {
                return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            }

            // The server has answered, so it has committed; reading the body to its end makes sure it finished.
            await proxyResponse.Content.ReadAsByteArrayAsync(cancellationToken);
            if (fault == ProxyFault.StalledAfterCommit)
            {
                // Held until the client's attempt timeout closes the request (or the stall ends), then dropped.
                try
                {
                    await Task.Delay(stallFor, httpContext.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client gave up: the point of the stall.
                }
            }

            if (fault is ProxyFault.DroppedAfterCommit or ProxyFault.StalledAfterCommit)
            {
                httpContext.Abort();
                return false;
            }

            httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            httpContext.Response.Headers.Clear();
            return false;
        }
    }
}
