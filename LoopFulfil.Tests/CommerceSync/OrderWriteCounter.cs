namespace LoopFulfil.Tests.CommerceSync;

/// <summary>Completes once Loop has accepted <c>count</c> order upserts.</summary>
internal sealed class OrderWriteSignal(int count)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _seen;

    public Task Reached => _reached.Task;

    public void Accepted()
    {
        if (Interlocked.Increment(ref _seen) >= count)
        {
            _reached.TrySetResult();
        }
    }
}

/// <summary>Counts the order upserts Loop answered with success, on the client side of every HTTP client.</summary>
internal sealed class OrderWriteCounter(OrderWriteSignal signal) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Put && request.RequestUri is { } uri && uri.AbsolutePath.EndsWith("/orders", StringComparison.Ordinal) && response.IsSuccessStatusCode)
        {
            signal.Accepted();
        }

        return response;
    }
}
