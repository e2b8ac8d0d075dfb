using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Sandbox.Faults;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Cli.Serve;

/// <summary><c>loopfulfil serve</c>: the whole integration on one machine.</summary>
internal static class ServeCommand
{
    private const string Notes = """
        Runs the integration on this machine: the Loop webhook endpoint, health and ops routes, the durable queue
        (Azurite Queue Storage) with its consumers, and the scheduled jobs, from the same settings as the Functions app.

        Routes:
          POST /api/loop/webhooks                     Loop webhooks (X-Loop-Signature, Webhooks__Secret)
          GET  /api/health                            200 healthy / 503 storage unreachable
          POST /api/returns/{id}/inspection           inspection verdicts (x-functions-key = LocalHost__AdminKey)
          GET  /api/ops/exceptions?status=&category=  ops routes: header x-functions-key = LocalHost__AdminKey
          GET  /api/ops/exceptions/{id}
          POST /api/ops/exceptions/{id}/replay
          POST /api/ops/exceptions/{id}/resolve?note=&nothingToPost=true
          POST /api/ops/exceptions/replay?category=

        Stop with Ctrl+C: in-flight messages finish (LocalHost__ShutdownGraceSeconds) or go back to the queue.
        Exit codes: 0 stopped, 2 usage or settings problem, 3 storage unreachable or cannot listen.
        """;

    /// <summary>Settings serve needs to run against real systems (without <c>--sandbox</c>).</summary>
    internal static readonly string[] CredentialKeys = ["Loop:ApiKey", "Fulfil:ApiKey", "Fulfil:BaseUrl"];

    public static Command Build(CliContext context)
    {
        var sandbox = new Option<bool>("--sandbox")
        {
            Description = "Use simulated Loop and Fulfil APIs and a private in-memory Azurite started for this run (never the configured "
                + "storage). Without it, serve needs Loop__ApiKey, Fulfil__ApiKey and Fulfil__BaseUrl and refuses to start when any is missing.",
        };
        var erp = CommandSyntax.Erp("With --sandbox: 'tryton' makes Fulfil a real Tryton 6.0 behind the Fulfil REST façade "
            + "(eng/tryton/start.sh; installs the Debian packages the first time); Loop stays simulated.");
        var faults = FulfilFaults();
        var urls = new Option<string>("--urls") { Description = "Where to listen (LocalHost__Urls; default http://127.0.0.1:7071).", HelpName = "urls" };
        var command = new NotedCommand(
            "serve",
            "Run the integration on this machine: webhook endpoint, ops routes, queue consumers, scheduled jobs.",
            Notes)
        {
            sandbox, erp, faults, urls,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(erp) is not null && !result.ParsedValue(sandbox))
            {
                result.AddError("--erp goes with --sandbox.");
            }

            if (result.GetResult(faults) is not null && !result.ParsedValue(sandbox))
            {
                result.AddError("--fulfil-faults goes with --sandbox.");
            }
        });
        command.SetAction((parse, _) => RunAsync(context, parse.GetValue(sandbox), parse.GetValue(erp) == "tryton", parse.GetValue(urls), parse.GetValue(faults)));
        return command;
    }

    /// <summary><c>--fulfil-faults BEFORE,AFTER[,SEED]</c>: fractions of Fulfil calls failed before / after commit by the fault proxy.</summary>
    private static Option<FaultProxyOptions?> FulfilFaults() => new("--fulfil-faults")
    {
        Description = "With --sandbox: a fault proxy between the Fulfil client and Fulfil (Tryton's façade with --erp tryton) fails this "
            + "fraction of calls before they reach it (429/503/reset) and this fraction after it committed them (503/drop/stall), "
            + "seeded (default seed 1), e.g. 0.2,0.1 or 0.2,0.1,7.",
        HelpName = "before,after[,seed]",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            var parts = text.Split(',');
            if (parts.Length is 2 or 3
                && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var before)
                && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var after)
                && before is >= 0 and <= 1 && after is >= 0 and <= 1 && before + after <= 1)
            {
                var seed = 1;
                if (parts.Length == 2 || int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                {
                    return new FaultProxyOptions { BeforeCommitRate = before, AfterCommitRate = after, Seed = seed };
                }
            }

            result.AddError($"--fulfil-faults takes two fractions (0-1, together at most 1) and an optional whole seed, e.g. 0.2,0.1,7; not '{text}'.");
            return null;
        },
    };

    private static async Task<int> RunAsync(CliContext context, bool sandboxMode, bool tryton, string? urls, FaultProxyOptions? fulfilFaults = null)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (urls is not null)
        {
            overrides["LocalHost:Urls"] = urls;
        }

        var configuration = CliConfiguration.Build(context, overrides);
        var missing = CredentialKeys.Where(k => !CliConfiguration.IsSet(configuration, k)).ToList();
        if (!sandboxMode && missing.Count > 0)
        {
            // Never fall into the sandbox by itself: a missing credential must not quietly simulate the ERP.
            WriteMissingCredentials(context.Stderr, missing);
            return 2;
        }

        SandboxEnvironment? sandbox = null;
        RunningHost? host = null;
        try
        {
            if (sandboxMode)
            {
                WriteSandboxBanner(context.Stdout);
                sandbox = await SandboxEnvironment.StartAsync(context.Stdout, context.Stopping, tryton).ConfigureAwait(false);
                if (fulfilFaults is not null)
                {
                    await sandbox.PutFaultProxyInFrontOfFulfilAsync(fulfilFaults, context.Stopping).ConfigureAwait(false);
                }

                configuration = CliConfiguration.Build(context, Merge(sandbox.Settings, overrides));
            }
            else if (!await CheckStorageAsync(context, configuration).ConfigureAwait(false))
            {
                return 3;
            }

            host = await ServeHost.StartAsync(configuration, context.Stdout, sandbox, context.Stopping).ConfigureAwait(false);
            sandbox?.SendWebhooksTo(host.WebhookUrl);
            WriteStarted(context.Stdout, host, sandbox);
            context.OnServeStarted?.Invoke(host);

            try
            {
                await host.WaitForStopRequestAsync(context.Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.Stopping.IsCancellationRequested)
            {
                // Asked to stop by the caller: fall through to the orderly stop below.
            }

            context.Stdout.WriteLine("Stopping: finishing or releasing in-flight messages…");
            await host.StopAsync().ConfigureAwait(false);
            if (sandbox?.FulfilProxy is { } proxy)
            {
                context.Stdout.WriteLine($"Fulfil fault proxy: {proxy.RequestCount} calls; injected "
                    + string.Join(", ", Enum.GetValues<SandboxFault>().Select(f => string.Create(CultureInfo.InvariantCulture, $"{f} {proxy.Count(f)}"))) + ".");
            }

            return 0;
        }
        catch (OptionsValidationException ex)
        {
            SettingsProblems.Write(context.Stderr, ex);
            return 2;
        }
        catch (InvalidOperationException ex) when (sandbox is null && sandboxMode)
        {
            context.Stderr.WriteLine("Sandbox mode could not start: " + ex.Message);
            return 3;
        }
        catch (IOException ex)
        {
            context.Stderr.WriteLine($"Could not listen on {configuration["LocalHost:Urls"] ?? "http://127.0.0.1:7071"}: {ex.Message} (set LocalHost__Urls or --urls).");
            return 3;
        }
        finally
        {
            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }

            if (sandbox is not null)
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static void WriteMissingCredentials(TextWriter stderr, IReadOnlyList<string> missing)
    {
        stderr.WriteLine(
            "serve needs Loop and Fulfil credentials; not set: " + string.Join(", ", missing.Select(CliConfiguration.EnvironmentName)) + ".");
        stderr.WriteLine("Set them (see local.settings.sample.json), or run 'loopfulfil serve --sandbox' to use simulated Loop and Fulfil.");
    }

    private static void WriteSandboxBanner(TextWriter stdout)
    {
        stdout.WriteLine(new string('!', 100));
        stdout.WriteLine("!! SANDBOX MODE (--sandbox): Loop and Fulfil are SIMULATED on this machine; nothing reaches a real store or ERP.");
        stdout.WriteLine("!! Storage is a private in-memory Azurite started for this run; configured storage and keys are not used.");
        stdout.WriteLine(new string('!', 100));
    }

    private static void WriteStarted(TextWriter stdout, RunningHost host, SandboxEnvironment? sandbox)
    {
        stdout.WriteLine($"loopfulfil serve listening on {host.BaseAddress}");
        stdout.WriteLine($"  Loop webhooks   POST {host.WebhookUrl}");
        stdout.WriteLine($"  Health          GET  {new Uri(host.BaseAddress, "api/health")}");
        stdout.WriteLine($"  Ops             {new Uri(host.BaseAddress, "api/ops/exceptions")} (header {ServeRoutes.AdminKeyHeader})");
        if (sandbox is not null)
        {
            stdout.WriteLine("Sandbox:");
            stdout.WriteLine($"  Loop API        {sandbox.Loop.ApiBaseUrl} (X-Authorization: {sandbox.Loop.ApiKey}); sends signed webhooks to {host.WebhookUrl}");
            stdout.WriteLine($"  Fulfil API      {sandbox.Fulfil.BaseAddress} (X-API-KEY: {sandbox.Fulfil.ApiKey}); demo data: sales #1001-#1004, locations STOR/QUAR/DMG");
            if (sandbox.Tryton is { } tryton)
            {
                stdout.WriteLine($"  Fulfil (Tryton) {tryton.BaseAddress} (X-API-KEY in {tryton.DataDirectory}/setup.env); the Fulfil client uses this one");
            }

            if (sandbox.FulfilProxy is { } proxy)
            {
                stdout.WriteLine($"  Fault proxy     {proxy.BaseAddress}: the Fulfil client goes through it; {proxy.Faults.BeforeCommitRate:P0} of calls fail before commit, {proxy.Faults.AfterCommitRate:P0} after");
            }

            stdout.WriteLine("  Storage         private Azurite started for this run (in memory, gone when serve stops)");
            stdout.WriteLine($"  Webhook secret  {sandbox.WebhookSecret}   (sign: base64(HMAC-SHA256(body, secret)) in X-Loop-Signature)");
            stdout.WriteLine($"  Admin key       {sandbox.AdminKey}");
            stdout.WriteLine($"  Try: POST {new Uri(sandbox.Loop.BaseAddress, "_sandbox/returns")} with a Loop return to have Loop send return.created.");
        }

        stdout.WriteLine("Press Ctrl+C to stop.");
    }

    private static async Task<bool> CheckStorageAsync(CliContext context, IConfiguration configuration)
    {
        if (CliConfiguration.IsSet(configuration, "Storage:TableEndpoint") || CliConfiguration.IsSet(configuration, "Storage:QueueEndpoint"))
        {
            return true;
        }

        var connection = CliConfiguration.IsSet(configuration, "Storage:ConnectionString") ? configuration["Storage:ConnectionString"]! : "UseDevelopmentStorage=true";
        if (await SandboxEnvironment.StorageAnswersAsync(connection, context.Stopping).ConfigureAwait(false))
        {
            return true;
        }

        context.Stderr.WriteLine(
            "Storage does not answer at Storage__ConnectionString" + (CliConfiguration.IsSet(configuration, "Storage:ConnectionString") ? "." : " (unset: UseDevelopmentStorage=true, Azurite on 127.0.0.1:10000-10002).") +
            " Start a durable Azurite with 'npx azurite --location .azurite --skipApiVersionCheck', or set Storage__ConnectionString.");
        return false;
    }

    private static Dictionary<string, string?> Merge(IReadOnlyDictionary<string, string?> first, IReadOnlyDictionary<string, string?> second)
    {
        var merged = new Dictionary<string, string?>(first, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in second)
        {
            merged[key] = value;
        }

        return merged;
    }
}
