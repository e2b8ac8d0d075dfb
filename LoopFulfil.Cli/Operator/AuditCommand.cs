using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.GoLive;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil audit</c>: the go-live readiness report (reads Fulfil and Loop, changes nothing).</summary>
internal static class AuditCommand
{
    private static readonly string[] RequiredKeys = ["Fulfil:BaseUrl", "Fulfil:ApiKey", "Loop:ApiKey"];

    public static Command Build(CliContext context)
    {
        var days = CommandSyntax.WholeNumber("--days", "n", "Days of Loop returns to read (Audit__LookbackDays, default 30).");
        var webhookUrl = new Option<string>("--webhook-url") { Description = "The URL Loop must deliver to (Audit__WebhookUrl).", HelpName = "url" };
        var output = new Option<string>("--out") { Description = "Also write the report as CSV and HTML files there.", HelpName = "dir" };
        var command = new NotedCommand(
            "audit",
            "Go-live readiness report (reads Fulfil and Loop, changes nothing).",
            """
            Go-live readiness: checks the Fulfil set-up (warehouse, quarantine/sellable/damaged locations and their types,
            posting accounts, journal, the API key's access to every model the integration uses), the Loop set-up (webhook
            secret, subscriptions pointing at this integration, API key), the catalogue and orders of recent Loop returns,
            whether returns already reach Fulfil another way (which would double every document), and groups recent
            returns by outcome shape with what is supported. Each check has a verdict, an owner and how to fix it.
            Reads only. Exit code 0 when no check fails, 1 when one does, 2 on a usage or settings problem.

            Needs Fulfil__BaseUrl, Fulfil__ApiKey and Loop__ApiKey. The read-only document comparison that 'audit' used
            to run is now 'loopfulfil reconcile --read-only'.
            """)
        {
            days, webhookUrl, output,
        };
        command.SetAction((parse, _) => RunAsync(context, parse.GetValue(days), parse.GetValue(webhookUrl), parse.GetValue(output)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int? days, string? webhookUrl, string? output)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (days is not null)
        {
            overrides["Audit:LookbackDays"] = days.Value.ToString(CultureInfo.InvariantCulture);
        }

        if (webhookUrl is not null)
        {
            overrides["Audit:WebhookUrl"] = webhookUrl;
        }

        var configuration = CliConfiguration.Build(context, overrides);
        var missing = RequiredKeys.Where(k => !CliConfiguration.IsSet(configuration, k)).ToList();
        if (missing.Count > 0)
        {
            context.Stderr.WriteLine("The audit needs " + string.Join(", ", missing.Select(CliConfiguration.EnvironmentName)) + " (see local.settings.sample.json).");
            return 2;
        }

        await using var services = Compose(configuration, context.Time);
        GoLiveAuditReport report;
        try
        {
            report = await services.GetRequiredService<GoLiveAudit>().RunAsync(context.Stopping).ConfigureAwait(false);
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            SettingsProblems.Write(context.Stderr, ex);
            return 2;
        }

        Print(report, context.Stdout);
        if (output is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            var stamp = report.At.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
            var csv = Path.Combine(dir, $"go-live-audit-{stamp}.csv");
            var html = Path.Combine(dir, $"go-live-audit-{stamp}.html");
            await File.WriteAllTextAsync(csv, report.RenderCsv(), context.Stopping).ConfigureAwait(false);
            await File.WriteAllTextAsync(html, report.RenderHtml(), context.Stopping).ConfigureAwait(false);
            context.Stdout.WriteLine($"Wrote {csv} and {html}.");
        }

        return report.Ready ? 0 : 1;
    }

    // Only what the audit reads: the two clients and the settings it checks. No storage, no queues.
    private static ServiceProvider Compose(IConfiguration configuration, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddLogging();
        services.AddLoopFulfilHttpResilience(configuration);
        services.AddLoopFulfilFulfil(configuration);
        services.AddLoopFulfilLoop(configuration);
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section));
        services.AddOptions<RefundsOptions>().Bind(configuration.GetSection(RefundsOptions.Section));
        services.AddLoopFulfilGoLiveAudit(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    private static void Print(GoLiveAuditReport report, TextWriter output)
    {
        output.WriteLine($"Go-live audit: {(report.Ready ? "ready" : "NOT READY")} ({report.Findings.Count(f => f.Verdict == AuditVerdict.Fail)} failed, {report.Findings.Count(f => f.Verdict == AuditVerdict.Warn)} to decide, {report.Findings.Count(f => f.Verdict == AuditVerdict.Pass)} passed).");
        foreach (var f in report.Findings.OrderBy(f => f.Verdict == AuditVerdict.Fail ? 0 : f.Verdict == AuditVerdict.Warn ? 1 : 2))
        {
            output.WriteLine($"  {f.Verdict.ToString().ToUpperInvariant(),-4} [{f.Owner}] {f.Area}: {f.Check} — {f.Detail}{(f.Fix.Length > 0 ? " → " + f.Fix : "")}");
        }

        output.WriteLine($"Returns of the last {report.LookbackDays} days by shape:");
        foreach (var s in report.Shapes)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Returns,5} × {s.Shape,-40} {s.Money,12:0.00}  {s.Support} ({s.Note})"));
        }
    }
}
