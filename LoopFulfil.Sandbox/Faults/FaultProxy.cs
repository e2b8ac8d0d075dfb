using System.Net;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace LoopFulfil.Sandbox.Faults;

/// <summary>
/// A YARP reverse proxy on loopback in front of one server (a sandbox, Tryton's façade) that injects the faults of a
/// <see cref="FaultInjection"/> plan — the same plan and kinds the simulators' middleware uses — either <b>before</b>
/// a request reaches the server (429 with Retry-After, 503, a stall, a connection reset) or <b>after</b> the server has
/// committed it (the request is forwarded and answered, then the client gets 503, a dropped connection, or a stall
/// until its own timeout, instead). The second kind is what a client cannot tell from a lost request, so it is the
/// fault that shows whether every write is safe to repeat. With an empty plan it only counts requests.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly LoopbackApp _app;
    private readonly HttpMessageInvoker _invoker;

    private FaultProxy(LoopbackApp app, HttpMessageInvoker invoker, FaultInjection faults)
    {
        _app = app;
        _invoker = invoker;
        Faults = faults;
    }

    /// <summary>Where clients send requests, e.g. http://127.0.0.1:53123/ (paths are kept as sent).</summary>
    public Uri BaseAddress => _app.BaseAddress;

    /// <summary>The plan, changeable while the proxy runs (aimed faults, counters, rates) and read for what it injected.</summary>
    public FaultInjection Faults { get; }

    /// <summary>Every request received, faulted or not.</summary>
    public long RequestCount => Faults.RequestCount;

    /// <summary>Requests handled with <paramref name="fault"/>.</summary>
    public long Count(SandboxFault fault) => Faults.Injected(fault);

    /// <summary>Starts a proxy with seeded random faults (<see cref="FaultProxyOptions.ToPlan"/>).</summary>
    public static Task<FaultProxy> StartAsync(Uri destination, FaultProxyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return StartAsync(destination, options.ToPlan(), options.Port, cancellationToken);
    }

    /// <summary>
    /// Starts a proxy that forwards to <paramref name="destination"/> (scheme, host and port; the request path is kept
    /// as the client sent it) and injects <paramref name="faults"/>.
    /// </summary>
    public static async Task<FaultProxy> StartAsync(Uri destination, FaultInjection faults, int port = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(faults);
        faults.Validate();
        var prefix = destination.GetLeftPart(UriPartial.Authority);
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        });
        var requestConfig = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
        try
        {
            var app = await LoopbackApp.StartAsync(
                services => services.AddHttpForwarder(),
                app => app.Map("/{**path}", async (HttpContext context, IHttpForwarder forwarder) =>
                {
                    var fault = await FaultResponses.DecideAsync(faults, context);
                    if (!await FaultResponses.AnswerBeforeCommitAsync(faults, context, fault))
                    {
                        await forwarder.SendAsync(context, prefix, invoker, requestConfig, new AfterCommitTransformer(faults, fault));
                    }
                }),
                port,
                cancellationToken);
            return new FaultProxy(app, invoker, faults);
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

    /// <summary>
    /// Forwards the request target exactly as received, then relays the response, or (after-commit faults) reads it
    /// to the end and answers 503, drops the connection, or stalls until the client gives up and then drops it.
    /// </summary>
    private sealed class AfterCommitTransformer(FaultInjection faults, SandboxFault? fault) : HttpTransformer
    {
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
            if (fault is not (SandboxFault.ServerErrorAfterCommit or SandboxFault.DropAfterCommit or SandboxFault.DelayAfterCommit) || proxyResponse is null)
            {
                return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            }

            // The server has answered, so it has committed; reading the body to its end makes sure it finished.
            await proxyResponse.Content.ReadAsByteArrayAsync(cancellationToken);
            await FaultResponses.AnswerAfterCommitAsync(faults, httpContext, fault.Value);
            return false;
        }
    }
}
