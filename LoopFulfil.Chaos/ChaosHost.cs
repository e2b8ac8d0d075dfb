using System.Diagnostics;
using System.Net.Sockets;

namespace LoopFulfil.Chaos;

/// <summary>
/// <c>loopfulfil serve</c> as a child process with explicit settings (environment variables), so the run can kill it
/// with SIGKILL (<see cref="Process.Kill(bool)"/>) and start it again on the same address. Its output goes to a log file.
/// </summary>
internal sealed class ChaosHost : IAsyncDisposable
{
    private readonly string _hostDll;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();
    private readonly HttpClient _health = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _workingDirectory;
    private Process? _process;

    public ChaosHost(string hostDll, IReadOnlyDictionary<string, string> settings, string logPath)
    {
        _hostDll = hostDll;
        _settings = settings;
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        // Not the repository: the host must read only the settings given here (no local.settings.json).
        _workingDirectory = Directory.CreateTempSubdirectory("loopfulfil-chaos-host-").FullName;
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}/");
    }

    public Uri BaseAddress { get; }

    public Uri WebhookUrl => new(BaseAddress, "api/loop/webhooks");

    /// <summary>Times the host was killed and started again.</summary>
    public int Restarts { get; private set; }

    /// <summary>The <c>loopfulfil.dll</c> next to this assembly (a project reference copies it there with its runtimeconfig).</summary>
    public static string FindHostDll()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "loopfulfil.dll");
        if (!File.Exists(path) || !File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")))
        {
            throw new InvalidOperationException($"No runnable loopfulfil.dll (with its runtimeconfig) in {AppContext.BaseDirectory}; build LoopFulfil.Cli or pass its path.");
        }

        return path;
    }

    /// <summary>Starts the host and waits (bounded by <paramref name="maxPolls"/> health polls) until it answers.</summary>
    public async Task StartAsync(int maxPolls, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            WorkingDirectory = _workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(_hostDll);
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(BaseAddress.ToString().TrimEnd('/'));
        foreach (var key in info.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal) || k.StartsWith("LOOPFULFIL", StringComparison.Ordinal)).ToList())
        {
            // Settings of this process (e.g. a developer's Fulfil__ApiKey) must not reach the host.
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in _settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Log($"== chaos: host started, pid {process.Id}");

        for (var poll = 0; poll < maxPolls; poll++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The host exited with code {process.ExitCode} while starting (log: {((FileStream)_log.BaseStream).Name}).");
            }

            try
            {
                using var response = await _health.GetAsync(new Uri(BaseAddress, "api/health"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow to answer while starting.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new InvalidOperationException($"The host did not answer /api/health after {maxPolls} polls.");
    }

    /// <summary>SIGKILL: the host and its in-flight work are gone at once (no graceful stop).</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Log($"== chaos: host killed, pid {process.Id}");
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Kills the host and starts it again.</summary>
    public async Task RestartAsync(TimeSpan downtime, int maxPolls, CancellationToken cancellationToken)
    {
        Kill();
        Restarts++;
        await Task.Delay(downtime, cancellationToken);
        await StartAsync(maxPolls, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _health.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }

        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Only an empty temporary folder.
        }

        return ValueTask.CompletedTask;
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            if (_log.BaseStream.CanWrite)
            {
                _log.WriteLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
