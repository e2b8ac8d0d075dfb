using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Storage.Queues;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Sandbox.Faults;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.Extensions.Configuration;

namespace LoopFulfil.Chaos;

/// <summary>
/// The chaos run (issue 13, item 11). In this process: the Loop and Fulfil sandboxes (demo seed plus one sale per
/// generated order) and a YARP fault proxy in front of Fulfil; Azurite runs as its own node process;
/// <c>loopfulfil serve</c> runs as a child process that is SIGKILLed and restarted at random points. Each
/// return's webhooks are delivered 1–5 times, retries of earlier events shuffled in with later ones. At the end the
/// run waits for quiet (bounded by polls) and compares Fulfil with the Loop payloads.
/// </summary>
public static class ChaosRun
{
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        var started = Stopwatch.GetTimestamp();
        var random = new Random(options.Seed);
        var hostDll = options.HostDll ?? ChaosHost.FindHostDll();
        var logPath = options.HostLogPath ?? Path.Combine(Path.GetTempPath(), $"loopfulfil-chaos-host-{Environment.ProcessId}.log");

        var onTryton = options.Erp == "tryton";
        var attemptTimeout = onTryton ? TrytonAttemptTimeout : HostAttemptTimeout;
        await using var sandbox = await SandboxEnvironment.StartAsync(progress, cancellationToken, tryton: onTryton);
        var fulfilFaults = new FaultProxyOptions
        {
            Seed = options.Seed,
            BeforeCommitRate = options.FulfilBeforeCommitRate,
            AfterCommitRate = options.FulfilAfterCommitRate,
            // Held past the host's attempt timeout (HostSettings), so the host's own timeout ends every stall.
            StallFor = attemptTimeout * 3,
        };
        // Tryton: the sandbox's own proxy in front of the façade (as serve --sandbox --erp tryton --fulfil-faults), which
        // its Settings then point the host at; the simulator: a proxy in front of the sandbox's root, as before.
        FaultProxy? simulatorProxy = null;
        if (onTryton)
        {
            await sandbox.PutFaultProxyInFrontOfFulfilAsync(fulfilFaults, cancellationToken);
        }
        else
        {
            simulatorProxy = await FaultProxy.StartAsync(sandbox.Fulfil.RootAddress, fulfilFaults, cancellationToken);
        }

        await using var ownedProxy = simulatorProxy;
        var fulfilProxy = simulatorProxy ?? sandbox.FulfilProxy!;
        using var trytonErp = onTryton ? new TrytonChaosErp(sandbox.Tryton!) : null;
        var erp = trytonErp ?? (IChaosErp)new SimulatorChaosErp(sandbox.Fulfil.State);

        // The same faults on the host's Loop calls (the driver plays Loop in this process and is not faulted).
        await using var loopProxy = await FaultProxy.StartAsync(sandbox.Loop.BaseAddress, new FaultProxyOptions
        {
            Seed = HashCode.Combine(options.Seed, "loop"),
            BeforeCommitRate = options.LoopBeforeCommitRate,
            AfterCommitRate = options.LoopAfterCommitRate,
            StallFor = HostAttemptTimeout * 3,
        }, cancellationToken);

        await using var storage = ChaosStorage.Start(sandbox.StorageConnectionString);
        var (returns, sales) = ChaosReturns.Build(options.Returns, random, firstId: 7_100_001, TimeProvider.System.GetUtcNow().AddMinutes(-10), erp.TaxRate, erp.Unsupported);
        var returnIds = returns.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        progress.WriteLine($"chaos: creating {sales.Count} original orders in the {erp.Name}");
        await erp.CreateSalesAsync(sales, cancellationToken);
        var settings = HostSettings(options, sandbox, fulfilProxy, loopProxy, attemptTimeout);
        settings["Storage:ConnectionString"] = storage.ConnectionString;
        await using var host = new ChaosHost(hostDll, settings, logPath);
        progress.WriteLine($"chaos: {options.Returns} returns on the {erp.Name}, seed {options.Seed}, Fulfil faults {options.FulfilBeforeCommitRate:P0} before / {options.FulfilAfterCommitRate:P0} after commit, Loop faults {options.LoopBeforeCommitRate:P0} / {options.LoopAfterCommitRate:P0}, {options.Restarts} kills; host log {logPath}");
        await host.StartAsync(maxPolls: 600, cancellationToken);

        var processing = Stopwatch.GetTimestamp();
        using var driver = new ChaosDriver(options, sandbox, host, erp);
        using var gate = new SemaphoreSlim(options.Parallelism);
        var launched = 0;
        var scripts = returns.Select((r, i) => Task.Run(async () =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                Interlocked.Increment(ref launched);
                await driver.RunScriptAsync(r, new Random(HashCode.Combine(options.Seed, i)), cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }, cancellationToken)).ToList();

        // Kill points count finished scripts, drawn where a full set of scripts is still in flight, so every kill
        // lands in the middle of work (counting started scripts would put every kill at the start: they all start at once).
        var span = Math.Max(1, options.Returns - options.Parallelism);
        var killPoints = Enumerable.Range(0, options.Restarts).Select(_ => random.Next(span)).Order().ToList();
        var killer = Task.Run(async () =>
        {
            foreach (var point in killPoints)
            {
                while (driver.Finished < point)
                {
                    await Task.Delay(50, cancellationToken);
                }

                await Task.Delay(random.Next(0, 1500), cancellationToken);
                await host.RestartAsync(TimeSpan.FromMilliseconds(random.Next(0, 1000)), maxPolls: 600, cancellationToken);
                progress.WriteLine($"chaos: host killed and restarted ({host.Restarts}/{options.Restarts}) after {driver.Finished} returns finished, {Volatile.Read(ref launched)} started");
            }
        }, cancellationToken);

        var all = Task.WhenAll([.. scripts, killer]);
        while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)) != all)
        {
            progress.WriteLine($"chaos: {driver.Finished}/{returns.Count} scripts done, {Volatile.Read(ref launched)} started; webhooks {driver.Accepted} accepted, {driver.Refused} refused (last {driver.LastRefusal}); Fulfil calls {fulfilProxy.RequestCount}, return orders {await erp.ReturnOrdersAsync(returnIds, cancellationToken)}; {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s");
        }

        await all;
        progress.WriteLine("chaos: every script has run; waiting for the queues to drain and every document to arrive");
        var queues = new QueueServiceClient(sandbox.StorageConnectionString);
        var quiet = await WaitForQuietAsync(options, queues, async () => (await ChaosVerdict.CompareAsync(returns, erp, cancellationToken, maxProblems: 0)).Missing, cancellationToken);
        var processed = Stopwatch.GetElapsedTime(processing);
        var verdict = await ChaosVerdict.CompareAsync(returns, erp, cancellationToken);
        var loopEffects = ChaosLoopEffects.Of(returns, sandbox.Loop);
        return new ChaosReport
        {
            Returns = returns.Count,
            DuplicateDocuments = verdict.Duplicates,
            MissingDocuments = verdict.Missing,
            UnexpectedDocuments = verdict.Unexpected,
            MoneyDifference = verdict.MoneyDifference,
            Restarts = host.Restarts,
            Elapsed = Stopwatch.GetElapsedTime(started),
            Processing = processed,
            FulfilRequests = fulfilProxy.RequestCount,
            FulfilFaults = Enum.GetValues<SandboxFault>().ToDictionary(f => f, fulfilProxy.Count),
            LoopRequests = loopProxy.RequestCount,
            LoopFaults = Enum.GetValues<SandboxFault>().ToDictionary(f => f, loopProxy.Count),
            LoopEffects = loopEffects,
            StorageRequests = storage.Requests,
            StorageUncountedConnections = storage.UncountedConnections,
            WebhooksAccepted = driver.Accepted,
            WebhookAttemptsRefused = driver.Refused,
            PoisonMessages = await CountAsync(queues, [QueueNames.LoopReturns + "-poison", QueueNames.LoopExchanges + "-poison"], cancellationToken),
            Quiet = quiet,
            Stalled = [.. returns.Where(r => r.Stalled is not null).Select(r => $"{r.Id} ({r.Kind}): {r.Stalled}")],
            ScriptWaits = ChaosReport.Waits(returns),
            Problems = [.. verdict.Problems, .. loopEffects.Problems],
        };
    }

    /// <summary>
    /// The host's settings, all explicit (it never falls back to a sandbox of its own): Fulfil through the fault proxy,
    /// storage through the counting relays (the caller sets it), the posting timer and the repair on short schedules so
    /// they run alongside the handlers, many partitions so many returns are handled at once, and a short visibility
    /// timeout so a killed host's messages return soon. Table in docs/benchmarks/chaos.md.
    /// </summary>
    /// <summary>The host's <c>HttpResilience:AttemptTimeout</c>: how long it waits for one Fulfil answer (a stall ends there).</summary>
    private static readonly TimeSpan HostAttemptTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// On Tryton: trytond on SQLite writes one transaction at a time, so a write can queue behind others for seconds;
    /// 2 s would turn most writes under load into unclear outcomes.
    /// </summary>
    private static readonly TimeSpan TrytonAttemptTimeout = TimeSpan.FromSeconds(10);

    private static Dictionary<string, string> HostSettings(ChaosOptions options, SandboxEnvironment sandbox, FaultProxy fulfil, FaultProxy loop, TimeSpan attemptTimeout)
    {
        var settings = sandbox.Settings.Where(s => !string.IsNullOrEmpty(s.Value)).ToDictionary(s => s.Key, s => s.Value!, StringComparer.OrdinalIgnoreCase);
        if (sandbox.Tryton is null)
        {
            // On Tryton the sandbox's settings already point through its proxy, at the façade's path.
            settings["Fulfil:BaseUrl"] = new Uri(fulfil.BaseAddress, "api/v2/").ToString();
        }

        settings["Loop:BaseUrl"] = new Uri(loop.BaseAddress, sandbox.Loop.ApiBaseUrl.AbsolutePath.TrimStart('/')).ToString();
        // A stalled Loop answer is given up after the same 2 s as a Fulfil one.
        settings["Loop:TimeoutSeconds"] = ((int)HostAttemptTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);

        settings["LocalHost:Partitions"] = options.HostPartitions.ToString(CultureInfo.InvariantCulture);
        settings["LocalHost:PollIntervalMilliseconds"] = "200";
        settings["LocalHost:VisibilityTimeoutSeconds"] = "10";
        settings["LocalHost:ShutdownGraceSeconds"] = "2";
        settings["LocalHost:MaxRetryBackoffSeconds"] = "1";
        // A webhook whose send a kill cut off between claim and enqueue is refused (503) until its claim times out.
        settings["LocalHost:PendingClaimTimeoutSeconds"] = "15";
        settings["Refunds:PostingMode"] = options.PostingMode;
        settings["Refunds:PostingSchedule"] = options.PostingSchedule;
        settings["RefundsPostingSchedule"] = options.PostingSchedule;
        // Scheduled mode: the timer posts this many returns at once (production default 4), as the 64 partitions handle returns.
        settings["Refunds:PostingParallelism"] = "16";
        settings["Reconciliation:Schedule"] = options.RepairSchedule;
        settings["ReconciliationSchedule"] = options.RepairSchedule;
        settings["Reconciliation:SelfHeal"] = "true";
        // Time scaled down like the queue settings, on loopback where a call takes milliseconds: in-process retries
        // back off from 50 ms (not 500 ms), a stalled attempt is given up after 2 s, an open circuit breaks for 5 s,
        // rescheduled messages come back after 1-4 s, and a killed host's step leases lapse after 30 s. The lease still
        // outlasts a step's look-up and create with all their retries (2 × TotalTimeout), as production's does.
        settings["HttpResilience:BaseDelay"] = "00:00:00.05";
        settings["HttpResilience:MaxDelay"] = "00:00:01";
        settings["HttpResilience:AttemptTimeout"] = attemptTimeout.ToString("c", CultureInfo.InvariantCulture);
        settings["HttpResilience:TotalTimeout"] = (attemptTimeout * 6).ToString("c", CultureInfo.InvariantCulture);
        settings["HttpResilience:CircuitBreakerBreakDuration"] = "00:00:05";
        settings["HttpResilience:CircuitBreakerSamplingDuration"] = "00:00:10";
        // Outlasts a step's look-up and create with all their retries (2 × TotalTimeout), on either ERP.
        settings["Returns:StepLeaseDuration"] = (attemptTimeout * 15).ToString("c", CultureInfo.InvariantCulture);
        settings["Redelivery:BaseDelay"] = "00:00:01";
        // Scaled with the attempt timeout as the lease is (4 s here, 20 s on Tryton): a lease a timed-out create kept
        // costs about 8 of the 40 redeliveries on either ERP, not all of them (on Tryton 150 s / 4 s would be 38).
        settings["Redelivery:MaxDelay"] = (attemptTimeout * 2).ToString("c", CultureInfo.InvariantCulture);
        settings["Redelivery:MaxAttempts"] = "40";
        // The commerce sync (catalogue, orders and refunds pushed to Loop) is not part of this run.
        settings["CommerceSync:Enabled"] = "false";
        settings["WriteBack:ExchangeOrders"] = "false";
        settings["WriteBack:OrderRefunds"] = "false";
        settings["Logging:LogLevel:Default"] = "Warning";
        foreach (var (key, value) in options.ExtraHostSettings)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>
    /// Settled: no message left in <c>loop-returns</c> or <c>loop-exchanges</c> (visible, delayed or in flight) and no
    /// document missing, for <see cref="ChaosOptions.QuietPolls"/> polls in a row, bounded by
    /// <see cref="ChaosOptions.MaxQuietWaitPolls"/>. Missing documents are part of it because in Scheduled mode the
    /// posting timer, and for a lost message the repair, create documents with no message queued. Fulfil calls are no
    /// signal: the repair calls Fulfil every few seconds whatever happens.
    /// </summary>
    private static async Task<bool> WaitForQuietAsync(ChaosOptions options, QueueServiceClient queues, Func<Task<int>> missing, CancellationToken cancellationToken)
    {
        var streak = 0;
        for (var poll = 0; poll < options.MaxQuietWaitPolls; poll++)
        {
            await Task.Delay(options.PollInterval, cancellationToken);
            var queued = await CountAsync(queues, [QueueNames.LoopReturns, QueueNames.LoopExchanges], cancellationToken);
            streak = queued == 0 && await missing() == 0 ? streak + 1 : 0;
            if (streak >= options.QuietPolls)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Messages in the queues, visible or not (0 for a queue never created).</summary>
    private static async Task<int> CountAsync(QueueServiceClient queues, string[] names, CancellationToken cancellationToken)
    {
        var total = 0;
        foreach (var name in names)
        {
            try
            {
                total += (await queues.GetQueueClient(name).GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Never created: nothing in it.
            }
        }

        return total;
    }
}
