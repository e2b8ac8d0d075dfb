using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil returns show &lt;id&gt;</c>: what the ledger holds for one Loop return.</summary>
internal static class ReturnsCommand
{
    public static Command Build(CliContext context)
    {
        var returnId = new Argument<string>("loop-return-id") { Description = "The Loop return's id." };
        var show = new Command("show", "The ledger record of one return and its steps.") { returnId };
        show.SetAction((parse, _) => ShowAsync(context, parse.GetRequiredValue(returnId)));
        return new NotedCommand(
            "returns",
            "The ledger record of one return and its steps.",
            """
            Prints the per-return record from the ledger in the configured storage (Storage__ConnectionString): the
            latest Loop state applied, each step with the Fulfil document it made, the events recorded, and the
            exception records of the return.
            """)
        {
            show,
        };
    }

    private static async Task<int> ShowAsync(CliContext context, string returnId)
    {
        var configuration = CliConfiguration.Build(context);
        return await OperatorServices.RunAsync(context, configuration, sp => ShowAsync(context, sp, returnId)).ConfigureAwait(false);
    }

    private static async Task<int> ShowAsync(CliContext context, IServiceProvider services, string returnId)
    {
        var ledger = services.GetRequiredService<ReturnLedger>();
        var ct = context.Stopping;
        var snapshot = await ledger.GetSnapshotAsync(returnId, ct).ConfigureAwait(false);
        var steps = await ledger.GetStepsAsync(returnId, ct).ConfigureAwait(false);
        var events = await ledger.GetEventsAsync(returnId, null, ct).ConfigureAwait(false);
        var exceptions = new List<ExceptionRecord>();
        await foreach (var record in services.GetRequiredService<ExceptionService>().ListAsync(null, null, ct).ConfigureAwait(false))
        {
            if (record.ReturnId == returnId)
            {
                exceptions.Add(record);
            }
        }

        if (snapshot is null && steps.Count == 0 && events.Count == 0 && exceptions.Count == 0)
        {
            context.Stderr.WriteLine($"Nothing is recorded for Loop return {returnId}.");
            return 1;
        }

        var console = ConsoleOutput.For(context.Stdout);
        context.Stdout.WriteLine($"Loop return {returnId}");
        context.Stdout.WriteLine(snapshot is null
            ? "  State: no snapshot recorded"
            : $"  State: {snapshot.State} (as of {Stamp(snapshot.EventTime)})");

        var stepTable = new Table().Border(TableBorder.Simple).AddColumns("Step", "Status", "Fulfil document", "Attempts", "Started (UTC)", "Completed (UTC)");
        foreach (var step in steps)
        {
            stepTable.AddRow(
                Markup.Escape(step.Step), Markup.Escape(step.Status), Markup.Escape(step.DocumentId ?? "-"),
                step.Attempts.ToString(CultureInfo.InvariantCulture), Stamp(step.StartedAt), Stamp(step.CompletedAt));
        }

        context.Stdout.WriteLine($"Steps ({steps.Count}):");
        if (steps.Count > 0)
        {
            console.Write(stepTable);
        }

        context.Stdout.WriteLine($"Events ({events.Count}):");
        foreach (var evt in events.OrderBy(e => e.ReceivedAt))
        {
            context.Stdout.WriteLine($"  {Stamp(evt.ReceivedAt)}  {evt.Trigger}  event time {Stamp(evt.EventTime)}  key {evt.DedupeKey}  {evt.Body.Length} bytes");
        }

        context.Stdout.WriteLine($"Exceptions ({exceptions.Count}):");
        if (exceptions.Count > 0)
        {
            console.Write(ExceptionsCommand.Table(exceptions));
        }

        return 0;
    }

    private static string Stamp(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
}
