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
    public const string Help = """
        Usage:
          loopfulfil exceptions list [--status open|resolved|replayed] [--category <category>]
          loopfulfil exceptions replay <id>
          loopfulfil exceptions replay --category <category>     Replays every open record of the category.
          loopfulfil exceptions resolve <id> [--note <text>]

        Reads and writes the exception records in the configured storage (Storage__ConnectionString). A replay puts the
        original Loop event back on the loop-returns queue that 'loopfulfil serve' consumes (an ExchangeOrderFailed
        record: its exchange message on loop-exchanges); against the Azure deployment use
        POST /api/ops/exceptions/{id}/replay on the Function App instead.
        """;

    public static async Task<int> RunAsync(CliContext context, IReadOnlyList<string> args)
    {
        var sub = args.Count > 0 && !args[0].StartsWith('-') ? args[0] : null;
        var line = CommandLine.Parse([.. args.Skip(sub is null ? 0 : 1)], [], ["--status", "--category", "--note"], out var error);
        if (line is null)
        {
            context.Stderr.WriteLine(error + " Run 'loopfulfil exceptions --help'.");
            return 2;
        }

        if (line.Help || sub is null)
        {
            (sub is null && !line.Help ? context.Stderr : context.Stdout).WriteLine(Help);
            return sub is null && !line.Help ? 2 : 0;
        }

        if (!ServeRoutes.TryParse<ExceptionStatus>(line.Value("--status"), out var status))
        {
            context.Stderr.WriteLine($"--status must be one of {ServeRoutes.Names<ExceptionStatus>()}.");
            return 2;
        }

        if (!ServeRoutes.TryParse<ExceptionCategory>(line.Value("--category"), out var category))
        {
            context.Stderr.WriteLine($"--category must be one of {ServeRoutes.Names<ExceptionCategory>()}.");
            return 2;
        }

        var configuration = CliConfiguration.Build(context);
        switch (sub)
        {
            case "list":
                return await OperatorServices.RunAsync(context, configuration, sp => ListAsync(context, sp.GetRequiredService<ExceptionService>(), status, category)).ConfigureAwait(false);
            case "replay" when line.Positional.Count == 1 && category is null:
            case "replay" when line.Positional.Count == 0 && category is not null:
                if (!OperatorServices.UsesLocalStorage(configuration))
                {
                    context.Stderr.WriteLine(OperatorServices.AzureStorageRefusal(
                        "a replay",
                        "Replay there with POST /api/ops/exceptions/{id}/replay (or /api/ops/exceptions/replay?category=…) on the Function App, which sends to Service Bus."));
                    return 2;
                }

                return await OperatorServices.RunAsync(context, configuration, sp => ReplayAsync(context, sp.GetRequiredService<ExceptionService>(), line.Positional.Count > 0 ? line.Positional[0] : null, category)).ConfigureAwait(false);
            case "resolve" when line.Positional.Count == 1:
                return await OperatorServices.RunAsync(context, configuration, async sp =>
                {
                    var record = await sp.GetRequiredService<ExceptionService>().ResolveAsync(line.Positional[0], line.Value("--note"), context.Stopping).ConfigureAwait(false);
                    if (record is null)
                    {
                        context.Stderr.WriteLine($"No exception record {line.Positional[0]}.");
                        return 1;
                    }

                    context.Stdout.WriteLine($"Resolved {record.Id} ({record.Category}, owner {record.Owner}).");
                    return 0;
                }).ConfigureAwait(false);
            default:
                context.Stderr.WriteLine($"Unknown or incomplete 'exceptions {sub}' command.");
                context.Stderr.WriteLine(Help);
                return 2;
        }
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
        IReadOnlyList<ReplayResult> results = id is not null
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
