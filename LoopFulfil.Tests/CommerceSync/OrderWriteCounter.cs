namespace LoopFulfil.Tests.CommerceSync;

/// <summary>
/// Completes once Loop has accepted <c>count</c> order upserts, and from then holds every accepted order's answer
/// until <see cref="Release"/>, so the run cannot finish between the signal and the test's cancellation however the
/// machine schedules it.
/// </summary>
internal sealed class OrderWriteSignal(int count)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _seen;

    public Task Reached => _reached.Task;

    /// <summary>Completes when the test lets the held answers go.</summary>
    public Task Released => _released.Task;

    /// <summary>Counts one accepted upsert; true when its answer must be held.</summary>
    public bool Accepted()
    {
        if (Interlocked.Increment(ref _seen) < count)
        {
            return false;
        }

        _reached.TrySetResult();
        return !_released.Task.IsCompleted;
    }

    public void Release() => _released.TrySetResult();
}

/// <summary>Counts the order upserts Loop answered with success, on the client side of every HTTP client.</summary>
internal sealed class OrderWriteCounter(OrderWriteSignal signal) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Put && request.RequestUri is { } uri && uri.AbsolutePath.EndsWith("/orders", StringComparison.Ordinal) && response.IsSuccessStatusCode
            && signal.Accepted())
        {
            // Loop has the write; its answer waits for the test (an answer in flight when the run is cancelled).
            await signal.Released;
        }

        return response;
    }
}
