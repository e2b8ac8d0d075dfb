using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Faults;

namespace LoopFulfil.Chaos;

/// <summary>
/// The host's way to Azurite: one <see cref="RequestCountingRelay"/> per service (blob, queue, table), so the run can
/// report storage operations per return. The driver's own reads (queue depths) go straight to Azurite and are not counted.
/// </summary>
internal sealed class ChaosStorage : IAsyncDisposable
{
    private readonly RequestCountingRelay[] _relays;

    private ChaosStorage(RequestCountingRelay blob, RequestCountingRelay queue, RequestCountingRelay table)
    {
        _relays = [blob, queue, table];
        ConnectionString = AzuriteProcess.BuildConnectionString(blob.Port, queue.Port, table.Port);
    }

    /// <summary>The connection string the host gets: Azurite's account, the relays' ports.</summary>
    public string ConnectionString { get; }

    /// <summary>Storage requests the host made (every service).</summary>
    public long Requests => _relays.Sum(r => r.Requests);

    /// <summary>Connections the relays could only pass through uncounted (chunked bodies); 0 expected.</summary>
    public long UncountedConnections => _relays.Sum(r => r.UncountedConnections);

    /// <summary>Starts relays to the endpoints of <paramref name="azuriteConnectionString"/>.</summary>
    public static ChaosStorage Start(string azuriteConnectionString)
    {
        var endpoints = azuriteConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0].EndsWith("Endpoint", StringComparison.Ordinal))
            .ToDictionary(pair => pair[0], pair => new Uri(pair[1]), StringComparer.Ordinal);
        return new ChaosStorage(
            RequestCountingRelay.Start(endpoints["BlobEndpoint"]),
            RequestCountingRelay.Start(endpoints["QueueEndpoint"]),
            RequestCountingRelay.Start(endpoints["TableEndpoint"]));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync();
        }
    }
}
