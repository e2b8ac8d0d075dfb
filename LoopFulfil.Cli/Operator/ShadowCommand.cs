using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil shadow report</c>: what shadow mode planned against what the existing process posted.</summary>
internal static class ShadowCommand
{
    private static readonly string[] RequiredKeys = ["Fulfil:BaseUrl", "Fulfil:ApiKey", "Loop:ApiKey"];

    public static Command Build(CliContext context)
    {
        var output = new Option<string>("--out") { Description = "Also write the report as CSV and HTML files there.", HelpName = "dir" };
        var report = new NotedCommand(
            "report",
            "Planned documents of shadow mode against what Fulfil already holds (reads only).",
            """
            For every return that shadow mode (Integration__Mode=Shadow) ran, the documents the accounting model plans
            (return sale, credit note, refund payment, store credit) with their amounts, against the return sales and
            credit notes the existing process made on the same order: matched, differs, missing in Fulfil (live mode
            posts it), only in Fulfil. Then every write the pipeline planned and did not send. Exit code 0 when nothing
            differs and nothing is only in Fulfil, 1 otherwise, 2 on a usage or settings problem.

            Needs the storage settings of the host that ran in shadow mode, Fulfil__BaseUrl, Fulfil__ApiKey, Loop__ApiKey.
            """)
        {
            output,
        };
        report.SetAction((parse, _) => RunAsync(context, parse.GetValue(output)));
        return new Command("shadow", "Shadow mode (Integration__Mode=Shadow): the report finance signs off before going live.") { report };
    }

    private static async Task<int> RunAsync(CliContext context, string? output)
    {
        var configuration = CliConfiguration.Build(context);
        var missing = RequiredKeys.Where(k => !CliConfiguration.IsSet(configuration, k)).ToList();
        if (missing.Count > 0)
        {
            context.Stderr.WriteLine("The shadow report needs " + string.Join(", ", missing.Select(CliConfiguration.EnvironmentName)) + " (see local.settings.sample.json).");
            return 2;
        }

        // Only what the report reads: storage (the plan and the ledger's snapshots), Fulfil and Loop. No queues.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(context.Time);
        services.AddLoopFulfilStorage(configuration);
        services.AddLoopFulfilHttpResilience(configuration);
        services.AddLoopFulfilFulfil(configuration);
        services.AddLoopFulfilLoop(configuration);
        services.AddOptions<RefundsOptions>().Bind(configuration.GetSection(RefundsOptions.Section));
        services.TryAddSingleton<ReturnLedger>();
        services.AddOptions<ReturnsOptions>().Bind(configuration.GetSection(ReturnsOptions.Section));
        services.TryAddSingleton(LoopReferences.Create);
        services.AddLoopFulfilShadowMode(configuration);
        return await OperatorServices.RunAsync(context, configuration, services, async sp =>
        {
            var report = await sp.GetRequiredService<ShadowReportBuilder>().BuildAsync(context.Stopping).ConfigureAwait(false);
            Print(report, context.Stdout);
            if (output is { Length: > 0 } dir)
            {
                Directory.CreateDirectory(dir);
                var stamp = report.At.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
                var csv = Path.Combine(dir, $"shadow-report-{stamp}.csv");
                var html = Path.Combine(dir, $"shadow-report-{stamp}.html");
                await File.WriteAllTextAsync(csv, report.RenderCsv(), context.Stopping).ConfigureAwait(false);
                await File.WriteAllTextAsync(html, report.RenderHtml(), context.Stopping).ConfigureAwait(false);
                context.Stdout.WriteLine($"Wrote {csv} and {html}.");
            }

            return report.Count(ShadowVerdict.Differs) + report.Count(ShadowVerdict.OnlyInFulfil) == 0 ? 0 : 1;
        }).ConfigureAwait(false);
    }

    private static void Print(ShadowReport report, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Shadow report: {report.Rows.Select(r => r.ReturnId).Distinct().Count()} returns, {report.Writes.Count} writes planned and not sent; {report.Count(ShadowVerdict.Matched)} matched, {report.Count(ShadowVerdict.Differs)} differ, {report.Count(ShadowVerdict.MissingInFulfil)} missing in Fulfil, {report.Count(ShadowVerdict.OnlyInFulfil)} only in Fulfil."));
        foreach (var r in report.Rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Verdict,-15} {r.ReturnId} {r.OrderName} {r.Document,-12} {r.Reference} planned {ShadowReport.Money(r.Planned),10}  Fulfil {r.Existing} {ShadowReport.Money(r.ExistingAmount)} — {r.Note}{(r.Write is null ? "" : "; " + r.Write)}"));
        }
    }
}
