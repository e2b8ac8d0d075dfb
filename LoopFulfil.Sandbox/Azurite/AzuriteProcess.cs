using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoopFulfil.Sandbox.Azurite;

/// <summary>
/// A real Azurite (Table, Queue and Blob Storage emulator) from the repository's <c>node_modules</c>, in memory on
/// free loopback ports, or an already-running one named by <see cref="ExistingConnectionStringVariable"/>.
/// Disposing stops the process tree this instance started (never a process it merely attached to).
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable, IDisposable
{
    /// <summary>When set (to a connection string), <see cref="StartAsync"/> uses that Azurite instead of starting one.</summary>
    public const string ExistingConnectionStringVariable = "LOOPFULFIL_TEST_STORAGE";

    /// <summary>Azurite's well-known account key (published by Microsoft, not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public const string AccountName = "devstoreaccount1";

    private readonly Process? _process;
    private readonly StringBuilder? _output;
    private int _disposed;

    private AzuriteProcess(string connectionString, Process? process, StringBuilder? output, int blobPort, int queuePort, int tablePort)
    {
        ConnectionString = connectionString;
        _process = process;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    /// <summary>
    /// <c>DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;BlobEndpoint=...;QueueEndpoint=...;TableEndpoint=...</c>
    /// (or the attached instance's string as given).
    /// </summary>
    public string ConnectionString { get; }

    /// <summary>The watchdog process that owns Azurite (killing its tree stops both); null when attached to an existing Azurite.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>True when this instance started the process (and will stop it).</summary>
    public bool OwnsProcess => _process is not null;

    /// <summary>0 when attached to an existing Azurite.</summary>
    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    /// <summary>What Azurite wrote to stdout/stderr so far (for diagnosing a failed start).</summary>
    public string Output
    {
        get
        {
            if (_output is null)
            {
                return "";
            }

            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Builds the connection string for an Azurite listening on 127.0.0.1 with the given ports.</summary>
    public static string BuildConnectionString(int blobPort, int queuePort, int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{tablePort}/{AccountName};";

    /// <summary>
    /// Attaches to the Azurite named by <see cref="ExistingConnectionStringVariable"/> if set, otherwise starts one and
    /// waits (up to <paramref name="startTimeout"/>, default 60 s) until its table, queue and blob ports accept connections.
    /// </summary>
    /// <exception cref="InvalidOperationException">Azurite is not installed (run <c>npm ci</c>) or did not come up.</exception>
    public static async Task<AzuriteProcess> StartAsync(TimeSpan? startTimeout = null, CancellationToken cancellationToken = default)
    {
        var existing = Environment.GetEnvironmentVariable(ExistingConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(existing))
        {
            return new AzuriteProcess(existing.Trim(), null, null, 0, 0, 0);
        }

        return await StartNewAsync(startTimeout, cancellationToken);
    }

    /// <summary>Always starts a fresh process, ignoring <see cref="ExistingConnectionStringVariable"/>.</summary>
    public static async Task<AzuriteProcess> StartNewAsync(TimeSpan? startTimeout = null, CancellationToken cancellationToken = default)
    {
        var executable = FindAzuriteExecutable()
            ?? throw new InvalidOperationException(
                "Azurite was not found: no node_modules/.bin/azurite above the current directory or the application directory. " +
                "Run 'npm ci' in the repository root (package.json pins azurite), or set " + ExistingConnectionStringVariable + ".");

        // A port picked free can be taken by someone else before Azurite binds it; try again with new ports.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return await LaunchAsync(executable, startTimeout ?? TimeSpan.FromSeconds(60), cancellationToken);
            }
            catch (AzuriteStartException ex)
            {
                last = ex;
            }
        }

        throw new InvalidOperationException("Azurite did not start after 3 attempts: " + last?.Message, last);
    }

    /// <summary>The directory holding package.json and node_modules/.bin/azurite, searched upwards from the current directory, then from the application directory.</summary>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "package.json")) && AzuriteIn(dir.FullName) is not null)
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    private static string? FindAzuriteExecutable() => FindRepositoryRoot() is { } root ? AzuriteIn(root) : null;

    private static string? AzuriteIn(string root)
    {
        var bin = Path.Combine(root, "node_modules", ".bin");
        var candidate = Path.Combine(bin, OperatingSystem.IsWindows() ? "azurite.cmd" : "azurite");
        return File.Exists(candidate) ? candidate : null;
    }

    private static async Task<AzuriteProcess> LaunchAsync(string executable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var blob = FreePort();
        var queue = FreePort();
        var table = FreePort();
        // In-memory persistence writes nothing, but Azurite may still drop a debug or lock file in its working directory.
        var workDir = Directory.CreateTempSubdirectory("loopfulfil-azurite-").FullName;
        // Azurite runs under a tiny node watchdog that reads our stdin pipe: if this process dies without disposing
        // (test host killed, debugger stopped), the pipe closes and the watchdog takes Azurite down with it.
        var info = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workDir,
            CreateNoWindow = true,
        };
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add(WatchdogScript);
        info.ArgumentList.Add(executable);
        foreach (var arg in new[]
        {
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent", "--loose",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        DataReceivedEventHandler capture = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    if (output.Length < 64 * 1024)
                    {
                        output.AppendLine(e.Data);
                    }
                }
            }
        };
        process.OutputDataReceived += capture;
        process.ErrorDataReceived += capture;
        try
        {
            if (!process.Start())
            {
                throw new AzuriteStartException($"Could not start node for {executable}.");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException("Could not run 'node' (Azurite needs Node.js on PATH): " + ex.Message, ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new AzuriteProcess(BuildConnectionString(blob, queue, table), process, output, blob, queue, table);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            while (!(await AcceptsAsync(table, deadline.Token) && await AcceptsAsync(queue, deadline.Token) && await AcceptsAsync(blob, deadline.Token)))
            {
                if (process.HasExited)
                {
                    throw new AzuriteStartException($"Azurite exited with code {process.ExitCode} before listening: {azurite.Output}");
                }

                await Task.Delay(100, deadline.Token);
            }

            return azurite;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            azurite.Dispose();
            throw new AzuriteStartException($"Azurite did not listen on ports {table}/{queue}/{blob} within {timeout.TotalSeconds:0} s: {azurite.Output}");
        }
        catch
        {
            azurite.Dispose();
            throw;
        }
    }

    private const string WatchdogScript = """
        const { spawn } = require('child_process');
        const [exe, ...args] = process.argv.slice(1);
        const child = spawn(exe, args, { stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
        const stop = () => { try { child.kill(); } catch {} process.exit(0); };
        process.stdin.on('end', stop);
        process.stdin.on('error', stop);
        process.stdin.resume();
        child.on('exit', (code) => process.exit(code ?? 1));
        """;

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _process is null)
        {
            return;
        }

        var workDir = _process.StartInfo.WorkingDirectory;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(workDir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover empty temp directory is harmless.
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class AzuriteStartException(string message) : Exception(message);
}
