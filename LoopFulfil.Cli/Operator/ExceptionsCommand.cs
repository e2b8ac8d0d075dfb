using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil exceptions list|replay|resolve</c> against the configured storage.</summary>
internal static class ExceptionsCommand
{
    public static Command Build(CliContext context)
    {
        var status = CommandSyntax.EnumFilter<ExceptionStatus>("--status", $"Only records with this status ({ServeRoutes.Names<ExceptionStatus>()}).");
        var category = CommandSyntax.EnumFilter<ExceptionCategory>("--category", "Only records of this category.");
        var list = new Command("list", "The exception records, newest first, with owners.") { status, category };
        list.SetAction((parse, _) => WithServices(context, sp => ListAsync(context, sp.GetRequiredService<ExceptionService>(), parse.GetValue(status), parse.GetValue(category))));

        var replayId = new Argument<string?>("id") { Arity = ArgumentArity.ZeroOrOne, Description = "The exception record to replay." };
        var replayCategory = CommandSyntax.EnumFilter<ExceptionCategory>("--category", "Replay every open record of the category instead.");
        var replay = new Command("replay", "Put the original Loop event back on the queue 'loopfulfil serve' consumes.") { replayId, replayCategory };
        replay.Validators.Add(result =>
        {
            if ((result.GetValue(replayId) is null) == (result.GetResult(replayCategory) is null))
            {
                result.AddError("'exceptions replay' takes a record id or --category <category>, one of the two.");
            }
        });
        replay.SetAction((parse, _) => ReplayAsync(context, parse.GetValue(replayId), parse.GetValue(replayCategory)));

        var resolveId = new Argument<string>("id") { Description = "The exception record to resolve." };
        var note = new Option<string>("--note") { Description = "Why it is resolved (kept on the record).", HelpName = "text" };
        var nothingToPost = new Option<bool>("--nothing-to-post") { Description = "ClosedWithoutProcessing only: confirm the return was closed without processing and nothing is to be posted (later events leave it resolved)." };
        var resolve = new Command("resolve", "Mark a record resolved.") { resolveId, note, nothingToPost };
        resolve.SetAction((parse, _) => ResolveAsync(context, parse.GetRequiredValue(resolveId), parse.GetValue(note), parse.GetValue(nothingToPost)));

        return new NotedCommand(
            "exceptions",
            "List, replay or resolve the exception records.",
            """
            Reads and writes the exception records in the configured storage (Storage__ConnectionString). A replay puts the
            original Loop event back on the loop-returns queue that 'loopfulfil serve' consumes (an ExchangeOrderFailed
            record: its exchange message on loop-exchanges); against the Azure deployment use
            POST /api/ops/exceptions/{id}/replay on the Function App instead.
            """)
        {
            list, replay, resolve,
        };
    }

    private static Task<int> WithServices(CliContext context, Func<IServiceProvider, Task<int>> run) =>
        OperatorServices.RunAsync(context, CliConfiguration.Build(context), run);

    private static Task<int> ReplayAsync(CliContext context, string? id, ExceptionCategory? category)
    {
        var configuration = CliConfiguration.Build(context);
        if (!OperatorServices.UsesLocalStorage(configuration))
        {
            context.Stderr.WriteLine(OperatorServices.AzureStorageRefusal(
                "a replay",
                "Replay there with POST /api/ops/exceptions/{id}/replay (or /api/ops/exceptions/replay?category=…) on the Function App, which sends to Service Bus."));
            return Task.FromResult(2);
        }

        return OperatorServices.RunAsync(context, configuration, sp => ReplayAsync(context, sp.GetRequiredService<ExceptionService>(), id, category));
    }

    private static Task<int> ResolveAsync(CliContext context, string id, string? note, bool nothingToPost)
    {
        if (nothingToPost && !id.StartsWith(nameof(ExceptionCategory.ClosedWithoutProcessing) + "-", StringComparison.Ordinal))
        {
            context.Stderr.WriteLine($"--nothing-to-post applies only to {nameof(ExceptionCategory.ClosedWithoutProcessing)} records.");
            return Task.FromResult(2);
        }

        return WithServices(context, async sp =>
        {
            var resolution = nothingToPost ? ExceptionResolution.NothingToPost : ExceptionResolution.Fixed;
            var record = await sp.GetRequiredService<ExceptionService>().ResolveAsync(id, note, resolution, context.Stopping).ConfigureAwait(false);
            if (record is null)
            {
                context.Stderr.WriteLine($"No exception record {id}.");
                return 1;
            }

            context.Stdout.WriteLine($"Resolved {record.Id} ({record.Category}, owner {record.Owner}{(nothingToPost ? ", nothing to post" : "")}).");
            return 0;
        });
    }

    private static async Task<int> ListAsync(CliContext context, ExceptionService exceptions, ExceptionStatus? status, ExceptionCategory? category)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var record in exceptions.ListAsync(status, category, context.Stopping).ConfigureAwait(false))
        {
            records.Add(record);
        }

        if (records.Count == 0)
        {
            context.Stdout.WriteLine("No exception records" + (status is null && category is null ? "." : " match."));
            return 0;
        }

        ConsoleOutput.For(context.Stdout).Write(Table(records));
        context.Stdout.WriteLine($"{records.Count} record(s).");
        return 0;
    }

    internal static Table Table(IEnumerable<ExceptionRecord> records)
    {
        // Ids, categories and owners never wrap: operators copy them into replay and resolve commands.
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("Id").NoWrap())
            .AddColumn(new TableColumn("Category").NoWrap())
            .AddColumn(new TableColumn("Owner").NoWrap())
            .AddColumns("Status", "Return", "Attempts", "Last seen (UTC)", "Message");
        foreach (var r in records.OrderByDescending(r => r.LastSeen))
        {
            table.AddRow(
                Markup.Escape(r.Id),
                Markup.Escape(r.Category.ToString()),
                Markup.Escape(r.Owner),
                Markup.Escape(r.Status.ToString()),
                Markup.Escape(r.ReturnId ?? "-"),
                r.Attempts.ToString(CultureInfo.InvariantCulture),
                r.LastSeen.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(r.Message.Length > 90 ? r.Message[..87] + "..." : r.Message));
        }

        return table;
    }

    private static async Task<int> ReplayAsync(CliContext context, ExceptionService exceptions, string? id, ExceptionCategory? category)
    {
        var results = id is not null
            ? [await exceptions.ReplayAsync(id, context.Stopping).ConfigureAwait(false)]
            : await exceptions.ReplayAllOpenAsync(category!.Value, context.Stopping).ConfigureAwait(false);
        if (results.Count == 0)
        {
            context.Stdout.WriteLine($"No open {category} records to replay.");
            return 0;
        }

        var failed = 0;
        foreach (var result in results)
        {
            var recordId = result.Record?.Id ?? id ?? "?";
            if (result.Outcome == ReplayOutcome.Replayed)
            {
                context.Stdout.WriteLine($"Replayed {recordId} as message {result.MessageId}.");
            }
            else
            {
                failed++;
                context.Stderr.WriteLine($"Not replayed {recordId}: {result.Outcome}. {result.Detail}");
            }
        }

        return failed == 0 ? 0 : 1;
    }
}
