using LoopFulfil.Cli.Sandbox;
using Microsoft.AspNetCore.Builder;

namespace LoopFulfil.Cli.Serve;

/// <summary>A started <c>loopfulfil serve</c> host: its address, services and (in sandbox mode) the simulated APIs.</summary>
public sealed class RunningHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _stopped;

    internal RunningHost(WebApplication app, Uri baseAddress, SandboxEnvironment? sandbox)
    {
        _app = app;
        BaseAddress = baseAddress;
        Sandbox = sandbox;
    }

    /// <summary>e.g. <c>http://127.0.0.1:7071/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Where Loop sends webhooks.</summary>
    public Uri WebhookUrl => new(BaseAddress, ServeRoutes.WebhookPath.TrimStart('/'));

    public IServiceProvider Services => _app.Services;

    /// <summary>The sandbox (Azurite, Loop and Fulfil simulations) when started in sandbox mode; owned by the caller that started it.</summary>
    public SandboxEnvironment? Sandbox { get; }

    /// <summary>Completes when the host has been asked to stop (Ctrl+C, SIGTERM, <see cref="StopAsync"/>).</summary>
    public Task WaitForStopRequestAsync(CancellationToken cancellationToken)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        return stopping.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the host: the dispatchers finish in-flight messages within their grace, then release the rest.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
