using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Faults;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using LoopFulfil.Sandbox.Tryton;

namespace LoopFulfil.Cli.Sandbox;

/// <summary>
/// Sandbox mode: a private in-memory Azurite (started from the repository's node_modules),
/// the simulated Fulfil API with its demo data set and the simulated Loop API, all on loopback. <see cref="Settings"/>
/// points the integration at them; <see cref="SendWebhooksTo"/> makes Loop deliver signed webhooks to the host.
/// </summary>
public sealed class SandboxEnvironment : IAsyncDisposable
{
    private readonly AzuriteProcess _azurite;

    private SandboxEnvironment(AzuriteProcess azurite, string storageConnectionString, FulfilSandbox fulfil, LoopSandbox loop, string adminKey, TrytonEngine? tryton = null)
    {
        _azurite = azurite;
        Tryton = tryton;
        StorageConnectionString = storageConnectionString;
        Fulfil = fulfil;
        Loop = loop;
        AdminKey = adminKey;
    }

    public string StorageConnectionString { get; }

    public FulfilSandbox Fulfil { get; }

    public LoopSandbox Loop { get; }

    /// <summary>The real ERP engine (<c>--erp tryton</c>) the Fulfil client talks to instead of the simulator, or null.</summary>
    public TrytonEngine? Tryton { get; }

    /// <summary>
    /// The YARP fault proxy between the Fulfil client and the Fulfil it uses (Tryton's façade or the simulator), when
    /// <see cref="PutFaultProxyInFrontOfFulfilAsync"/> started one; <see cref="Settings"/> then point the client at it.
    /// </summary>
    public FaultProxy? FulfilProxy { get; private set; }

    /// <summary>The key the ops routes take: made up for this run (a configured <c>LocalHost:AdminKey</c> is not used).</summary>
    public string AdminKey { get; }

    /// <summary>The secret Loop signs webhooks with, and the host verifies (<c>Webhooks:Secret</c>).</summary>
    public string WebhookSecret => Loop.WebhookSecret;

    /// <summary>Settings that point the integration at the sandboxes (applied over all other configuration).</summary>
    public IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var settings = SimulatorSettings;
            foreach (var (key, value) in Tryton?.FulfilSettings ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }

            if (FulfilProxy is not null)
            {
                // Same path (the façade's is /{database}/api/v2/), through the proxy.
                settings["Fulfil:BaseUrl"] = new Uri(FulfilProxy.BaseAddress, new Uri(settings["Fulfil:BaseUrl"]!).PathAndQuery).ToString();
            }

            return settings;
        }
    }

    private Dictionary<string, string?> SimulatorSettings => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Storage:ConnectionString"] = StorageConnectionString,
        ["Storage:TableEndpoint"] = string.Empty,
        ["Storage:QueueEndpoint"] = string.Empty,
        ["Storage:BlobEndpoint"] = string.Empty,
        ["Storage:ClientId"] = string.Empty,
        ["Fulfil:BaseUrl"] = Fulfil.BaseAddress.ToString(),
        ["Fulfil:ApiKey"] = Fulfil.ApiKey,
        ["Fulfil:AuthMode"] = nameof(FulfilAuthMode.ApiKey),
        ["Fulfil:CompanyId"] = Invariant(FulfilSandboxDemo.CompanyId),
        ["Fulfil:WarehouseId"] = Invariant(FulfilSandboxDemo.WarehouseId),
        ["Fulfil:QuarantineLocationCode"] = FulfilSandboxDemo.QuarantineLocationCode,
        ["Fulfil:SellableLocationCode"] = FulfilSandboxDemo.SellableLocationCode,
        ["Fulfil:DamagedLocationCode"] = FulfilSandboxDemo.DamagedLocationCode,
        ["Fulfil:ReturnsClearingAccountCode"] = FulfilSandboxDemo.ReturnsClearingAccountCode,
        ["Fulfil:GiftCardLiabilityAccountCode"] = FulfilSandboxDemo.GiftCardLiabilityAccountCode,
        ["Fulfil:JournalId"] = Invariant(FulfilSandboxDemo.MiscJournalId),
        ["Fulfil:ExchangeChannelId"] = Invariant(FulfilSandboxDemo.ExchangeChannelId),
        ["Fulfil:SaleLookup"] = nameof(FulfilSaleLookup.OrderName),
        ["Loop:BaseUrl"] = Loop.ApiBaseUrl.ToString(),
        ["Loop:ApiKey"] = Loop.ApiKey,
        ["Webhooks:Secret"] = Loop.WebhookSecret,
        ["Webhooks:SecondarySecret"] = string.Empty,
        ["LocalHost:AdminKey"] = AdminKey,
    };

    /// <summary>
    /// Starts the sandbox: always its own in-memory Azurite (never the configured storage, which may be a real
    /// deployment's) and its own keys, so nothing configured for real systems is used or shown.
    /// </summary>
    /// <param name="tryton">Also start Tryton (eng/tryton/start.sh) and point the Fulfil client at its façade.</param>
    public static async Task<SandboxEnvironment> StartAsync(TextWriter output, CancellationToken cancellationToken, bool tryton = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var trytonStart = tryton ? TrytonEngine.StartAsync(output, cancellationToken) : null;
        // Azurite (node) is the slow part on a busy machine; the simulated APIs start meanwhile.
        var fulfilStart = FulfilSandbox.StartAsync(new FulfilSandboxOptions(), cancellationToken);
        var loopStart = LoopSandbox.StartAsync(new LoopSandboxOptions { SeedDemoData = true }, cancellationToken);
        AzuriteProcess? azurite = null;
        try
        {
            await AzuriteInstaller.EnsureInstalledAsync(output, cancellationToken).ConfigureAwait(false);
            azurite = await AzuriteProcess.StartNewAsync(TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
            var fulfil = await fulfilStart.ConfigureAwait(false);
            var loop = await loopStart.ConfigureAwait(false);
            var adminKey = "sandbox-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var engine = trytonStart is null ? null : await trytonStart.ConfigureAwait(false);
            return new SandboxEnvironment(azurite, azurite.ConnectionString, fulfil, loop, adminKey, engine);
        }
        catch
        {
            if (trytonStart is not null)
            {
                await DisposeStartedAsync(trytonStart).ConfigureAwait(false);
            }

            await DisposeStartedAsync(fulfilStart).ConfigureAwait(false);
            await DisposeStartedAsync(loopStart).ConfigureAwait(false);
            if (azurite is not null)
            {
                await azurite.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task DisposeStartedAsync<T>(Task<T> start)
        where T : IAsyncDisposable
    {
        try
        {
            await (await start.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // It never started, or stopping it failed: the original failure is the one to report.
        }
    }

    /// <summary>
    /// Puts a <see cref="FaultProxy"/> with <paramref name="options"/> in front of the Fulfil the client uses (Tryton
    /// with <c>--erp tryton</c>), so its calls fail before or after the ERP committed them.
    /// </summary>
    public async Task PutFaultProxyInFrontOfFulfilAsync(FaultProxyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (FulfilProxy is not null)
        {
            throw new InvalidOperationException("The Fulfil fault proxy is already running.");
        }

        FulfilProxy = await FaultProxy.StartAsync(Tryton?.BaseAddress ?? Fulfil.BaseAddress, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loop (the sandbox) sends its signed webhooks to <paramref name="webhookUrl"/> from now on.</summary>
    public void SendWebhooksTo(Uri webhookUrl) => Loop.WebhookTargetUrl = webhookUrl;

    public async ValueTask DisposeAsync()
    {
        if (FulfilProxy is not null)
        {
            await FulfilProxy.DisposeAsync().ConfigureAwait(false);
        }

        if (Tryton is not null)
        {
            await Tryton.DisposeAsync().ConfigureAwait(false);
        }

        await Loop.DisposeAsync().ConfigureAwait(false);
        await Fulfil.DisposeAsync().ConfigureAwait(false);
        await _azurite.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Whether the table, queue and blob endpoints of <paramref name="connectionString"/> accept connections.</summary>
    internal static async Task<bool> StorageAnswersAsync(string connectionString, CancellationToken cancellationToken)
    {
        LoopFulfil.Core.Storage.StorageAccount parsed;
        try
        {
            parsed = LoopFulfil.Core.Storage.StorageAccount.FromConnectionString(connectionString);
        }
        catch (FormatException)
        {
            return false;
        }

        foreach (var endpoint in new[] { parsed.TableEndpoint!, parsed.QueueEndpoint!, parsed.BlobEndpoint! })
        {
            if (!await AcceptsAsync(endpoint, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> AcceptsAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Installs the pinned Azurite with <c>npm ci</c> when the repository has no <c>node_modules/.bin/azurite</c>.</summary>
internal static class AzuriteInstaller
{
    public static async Task EnsureInstalledAsync(TextWriter output, CancellationToken cancellationToken)
    {
        if (AzuriteProcess.FindRepositoryRoot() is not null)
        {
            return;
        }

        var root = FindPackageRoot()
            ?? throw new InvalidOperationException(
                "Azurite is not installed and no package.json naming it was found above the current directory. " +
                "Run from the LoopFulfil repository, or set Storage__ConnectionString to a running Azurite or storage account.");
        output.WriteLine($"Azurite is not installed: running 'npm ci' in {root} (installs the versions pinned in package-lock.json)…");
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        var info = new ProcessStartInfo(npm)
        {
            WorkingDirectory = root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = info };
        var gate = new Lock();
        void Echo(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    output.WriteLine("  npm: " + e.Data);
                }
            }
        }

        process.OutputDataReceived += Echo;
        process.ErrorDataReceived += Echo;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Could not run npm (Node.js 20+ is needed for Azurite): " + ex.Message, ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0 || AzuriteProcess.FindRepositoryRoot() is null)
        {
            throw new InvalidOperationException($"'npm ci' in {root} failed (exit code {process.ExitCode}); Azurite is still missing.");
        }
    }

    private static string? FindPackageRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var package = Path.Combine(dir.FullName, "package.json");
                if (File.Exists(package) && File.ReadAllText(package).Contains("\"azurite\"", StringComparison.Ordinal))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
