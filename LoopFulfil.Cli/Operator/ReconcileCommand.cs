using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.LocalHost;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Operator;

/// <summary>
/// <c>loopfulfil reconcile</c> (a daily-style run: heals and raises exceptions as configured) and
/// <c>loopfulfil reconcile --read-only</c> (the same comparison, changing nothing).
/// Both store the report like the timer does and can write it as CSV and HTML.
/// </summary>
internal static class ReconcileCommand
{
    private static readonly string[] RequiredKeys = ["Fulfil:BaseUrl", "Fulfil:ApiKey", "Loop:ApiKey"];

    public static Command Build(CliContext context)
    {
        var readOnly = new Option<bool>("--read-only") { Description = "The same comparison, changing nothing (no repairs, on any storage)." };
        var from = CommandSyntax.Date("--from", "First day compared (UTC).");
        var to = CommandSyntax.Date("--to", "Day after the last one compared (UTC).");
        var output = new Option<string>("--out") { Description = "Also write the report as CSV and HTML files there.", HelpName = "dir" };
        var command = new NotedCommand(
            "reconcile",
            "Compare Loop, Fulfil and the ledger; repair (--read-only: change nothing).",
            """
            Compares every Loop return updated in [from, to) (UTC) with Fulfil and LoopFulfil's own records: return orders,
            stock out of quarantine within Reconciliation__RestockSla, credit notes against cash refunds, journals against
            store credit, exchange orders, duplicates, and LOOP- documents for returns Loop does not know.
            'reconcile' re-enqueues returns with missing steps when Reconciliation__SelfHeal is on; --read-only changes nothing.
            'reconcile' repairs only against this machine's storage (Azurite), whose queues 'loopfulfil serve' drains; against
            an Azure account it refuses (nothing would read its repairs there): use --read-only, and the Function App's timers.
            The report is stored (GET /api/ops/reconciliation/latest.html) and, with --out, written as CSV and HTML files.
            Needs Loop__*, Fulfil__* and Storage__ConnectionString. Exit code 0 when nothing needs action, 1 otherwise.
            """)
        {
            readOnly, from, to, output,
        };
        command.Validators.Add(result =>
        {
            if (result.ParsedValue(from) is { } first && result.ParsedValue(to) is { } last && last <= first)
            {
                result.AddError("--from and --to are dates (yyyy-MM-dd, UTC), with --to after --from.");
            }
        });
        command.SetAction((parse, _) => RunAsync(
            context,
            parse.GetValue(readOnly) ? ReconciliationMode.Audit : ReconciliationMode.Daily,
            parse.GetRequiredValue(from)!.Value,
            parse.GetRequiredValue(to)!.Value,
            parse.GetValue(output)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, ReconciliationMode mode, DateTimeOffset from, DateTimeOffset to, string? output)
    {
        var configuration = CliConfiguration.Build(context);
        if (mode == ReconciliationMode.Daily && !OperatorServices.UsesLocalStorage(configuration))
        {
            // Repairs are queue messages: on Azure only Service Bus is consumed, and this command has no sender for it.
            context.Stderr.WriteLine(OperatorServices.AzureStorageRefusal(
                "the repairs of 'reconcile'",
                "Run 'loopfulfil reconcile --read-only' for the report; the Function App's Reconciliation and CatchUp timers repair through Service Bus."));
            return 2;
        }

        var missing = RequiredKeys.Where(k => !CliConfiguration.IsSet(configuration, k)).ToList();
        if (missing.Count > 0)
        {
            context.Stderr.WriteLine("The reconcile needs " + string.Join(", ", missing.Select(CliConfiguration.EnvironmentName)) + " (see local.settings.sample.json).");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLoopFulfil(configuration);
        services.AddLoopFulfilLocalHost(configuration);
        return await OperatorServices.RunAsync(context, configuration, services, async sp =>
        {
            var report = await sp.GetRequiredService<ReconciliationJob>().RunAsync(from, to, mode, context.Stopping).ConfigureAwait(false);
            Print(report, context.Stdout);
            if (output is { Length: > 0 } dir)
            {
                Directory.CreateDirectory(dir);
                var reports = sp.GetRequiredService<ReconciliationReports>();
                var csv = Path.Combine(dir, $"reconciliation-{report.RunId}.csv");
                var html = Path.Combine(dir, $"reconciliation-{report.RunId}.html");
                await File.WriteAllTextAsync(csv, ReconciliationReports.RenderCsv(report), context.Stopping).ConfigureAwait(false);
                await File.WriteAllTextAsync(html, reports.RenderHtml(report), context.Stopping).ConfigureAwait(false);
                context.Stdout.WriteLine($"Wrote {csv} and {html}.");
            }

            return report.NeedingAction.Any() ? 1 : 0;
        }).ConfigureAwait(false);
    }

    private static void Print(ReconciliationReport report, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Reconciliation {report.RunId} ({report.Mode}) {report.From:yyyy-MM-dd} → {report.To:yyyy-MM-dd}: {report.ReturnsChecked} returns checked, {report.Mismatches.Count} mismatches, {report.HealMessagesSent} repairs sent, {report.OpenExceptions} open exceptions."));
        foreach (var total in report.Totals)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {total.Type,-14} {total.Currency} Loop {total.LoopAmount,12:0.00}  Fulfil {total.FulfilAmount,12:0.00}  ({total.Returns} returns)"));
        }

        foreach (var mismatch in report.NeedingAction)
        {
            output.WriteLine($"  needs action [{mismatch.Owner}] {mismatch.Kind} return {mismatch.ReturnId}: expected {mismatch.Expected}, found {mismatch.Actual}");
        }
    }
}
