using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.LocalHost;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil sync backfill</c>: push Fulfil's catalogue, customers, orders and stock to Loop now.</summary>
internal static class SyncCommand
{
    private static readonly string[] RequiredKeys = ["Fulfil:BaseUrl", "Fulfil:ApiKey", "Loop:ApiKey"];

    public static Command Build(CliContext context)
    {
        var backfill = new Command("backfill", "Start a backfill, or resume the one in progress from its checkpoints.");
        backfill.SetAction((_, _) => RunBackfillAsync(context));
        return new NotedCommand(
            "sync",
            "Push Fulfil's catalogue, customers, orders and stock to Loop.",
            """
            'sync backfill' runs CommerceSyncJob in backfill mode against the configured Fulfil, Loop and storage (Fulfil__*,
            Loop__*, Storage__ConnectionString): starts a backfill, or resumes the one in progress from its checkpoints. Stops
            at CommerceSync__RunBudget; run it again to continue. Prints progress and the counts per entity.
            """)
        {
            backfill,
        };
    }

    private static async Task<int> RunBackfillAsync(CliContext context)
    {
        var configuration = CliConfiguration.Build(context);
        var missing = RequiredKeys.Where(k => !CliConfiguration.IsSet(configuration, k)).ToList();
        if (missing.Count > 0)
        {
            context.Stderr.WriteLine("The commerce sync needs " + string.Join(", ", missing.Select(CliConfiguration.EnvironmentName)) + " (see local.settings.sample.json).");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLoopFulfil(configuration);
        services.AddLoopFulfilLocalHost(configuration);
        return await OperatorServices.RunAsync(context, configuration, services, async sp =>
        {
            var result = await BackfillAsync(sp.GetRequiredService<CommerceSyncJob>(), context.Stdout, context.Stopping).ConfigureAwait(false);
            return result.Failed == 0 ? 0 : 1;
        }).ConfigureAwait(false);
    }

    /// <summary>Runs a backfill, printing a line per phase change; returns the result.</summary>
    public static async Task<CommerceSyncResult> BackfillAsync(CommerceSyncJob job, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        string? phase = null;
        var progress = new SynchronousProgress(p =>
        {
            if (p.Phase != phase)
            {
                phase = p.Phase;
                output.WriteLine($"  {p.Phase}: {p.Done}/{p.Total} ({p.LoopWrites} Loop writes)");
            }
        });
        var result = await job.RunAsync(SyncMode.Backfill, progress, cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Commerce sync backfill {(result.Completed ? "completed" : result.StoppedByBudget ? "stopped at its run budget (run again to continue)" : "did not complete")}: " +
            $"{result.Sent} sent, {result.Failed} failed, {result.LoopWrites} Loop writes in {result.Elapsed.TotalSeconds:0.0} s."));
        return result;
    }

    private sealed class SynchronousProgress(Action<SyncProgress> report) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => report(value);
    }
}
