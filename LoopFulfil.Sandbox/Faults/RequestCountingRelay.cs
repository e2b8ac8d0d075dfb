using System.Net;
using System.Net.Sockets;

namespace LoopFulfil.Sandbox.Faults;

/// <summary>
/// A TCP relay on loopback in front of one HTTP/1.1 server (an Azurite service) that counts the requests passing
/// through without touching a byte, so request signatures (Shared Key covers the path and headers as sent) stay
/// valid — which an HTTP proxy that rebuilds requests cannot promise. It reads each request's head to its blank
/// line and skips <c>Content-Length</c> body bytes; a chunked request is counted and its connection is then only
/// relayed (<see cref="UncountedConnections"/>).
/// </summary>
public sealed class RequestCountingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _requests;
    private long _uncounted;

    private RequestCountingRelay(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The relay's port on 127.0.0.1.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>HTTP requests relayed so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Connections whose later requests could not be counted (a chunked request body); 0 with the Azure SDK.</summary>
    public long UncountedConnections => Interlocked.Read(ref _uncounted);

    /// <summary>Starts a relay to <paramref name="target"/> (its host must be a loopback address).</summary>
    public static RequestCountingRelay Start(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new RequestCountingRelay(new IPEndPoint(IPAddress.Loopback, target.Port));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                server.NoDelay = true;
                await server.ConnectAsync(_target, _stop.Token);
                var upstream = server.GetStream();
                var downstream = client.GetStream();
                var requests = PumpAsync(downstream, upstream, new RequestCounter(this), server.Client);
                var responses = PumpAsync(upstream, downstream, null, client.Client);
                await Task.WhenAny(requests, responses);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A closed or reset connection (the host was killed, or the run is over): nothing to relay.
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, RequestCounter? counter, Socket toSocket)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                counter?.Observe(buffer.AsSpan(0, read));
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The other side went away.
        }
    }

    /// <summary>Finds request boundaries in one connection's client-to-server bytes.</summary>
    private sealed class RequestCounter(RequestCountingRelay relay)
    {
        private readonly List<byte> _head = new(2048);
        private long _bodyLeft;
        private bool _lost;

        public void Observe(ReadOnlySpan<byte> bytes)
        {
            var i = 0;
            while (i < bytes.Length && !_lost)
            {
                if (_bodyLeft > 0)
                {
                    var skip = (int)Math.Min(_bodyLeft, bytes.Length - i);
                    _bodyLeft -= skip;
                    i += skip;
                    continue;
                }

                _head.Add(bytes[i++]);
                var n = _head.Count;
                if (n >= 4 && _head[n - 4] == '\r' && _head[n - 3] == '\n' && _head[n - 2] == '\r' && _head[n - 1] == '\n')
                {
                    Interlocked.Increment(ref relay._requests);
                    var head = System.Text.Encoding.ASCII.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_head));
                    _head.Clear();
                    _bodyLeft = Header(head, "Content-Length") is { } length && long.TryParse(length, out var value) ? value : 0;
                    if (Header(head, "Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
                    {
                        _lost = true;
                        Interlocked.Increment(ref relay._uncounted);
                    }
                }
            }
        }

        private static string? Header(string head, string name)
        {
            foreach (var line in head.Split("\r\n"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return line[(colon + 1)..].Trim();
                }
            }

            return null;
        }
    }
}
