using System.CommandLine;
using System.Globalization;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Cli.Operator;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LoopFulfil.Cli.Demo;

/// <summary>
/// <c>loopfulfil demo</c>: sandbox mode end to end. Starts a private Azurite, the Loop and Fulfil sandboxes and the
/// serve host; the Loop sandbox sends signed webhooks for each scenario; then prints what Fulfil holds. Exit 0 only
/// when every scenario ended as expected.
/// </summary>
internal static class DemoCommand
{
    public static Command Build(CliContext context)
    {
        var erp = CommandSyntax.Erp("'tryton': Fulfil is a real Tryton 6.0 behind the Fulfil REST façade (eng/tryton/start.sh; the first "
            + "run installs the Debian packages); ends with Tryton's account balances and stock.");
        var timeout = CommandSyntax.WholeNumber("--timeout", "seconds", "How long scenarios may take in all (default 45; 240 with --erp tryton).", min: 5, max: 3600);
        var command = new NotedCommand(
            "demo",
            "Sandbox end to end: scenarios, then what Fulfil holds.",
            """
            Runs the integration against simulated Loop and Fulfil APIs and a private in-memory Azurite (nothing leaves
            this machine, no configuration needed): signed webhooks for a set of scenarios, then a table of what Fulfil
            holds (return orders, credit notes, journals, exchange orders, stock by location) and the open exceptions.
            Exits 0 when every scenario ended as expected, 1 (naming the failing scenarios) otherwise.
            """)
        {
            erp, timeout,
        };
        command.SetAction((parse, _) =>
        {
            var tryton = parse.GetValue(erp) == "tryton";
            return RunAsync(context, tryton, TimeSpan.FromSeconds(parse.GetValue(timeout) ?? (tryton ? 240 : 45)));
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, bool tryton, TimeSpan timeout)
    {
        var console = ConsoleOutput.For(context.Stdout);
        console.MarkupLine(tryton
            ? "[bold]LoopFulfil demo[/]: end to end with Fulfil on a real Tryton 6.0 (simulated Loop on loopback, private Azurite)."
            : "[bold]LoopFulfil demo[/]: sandbox mode end to end (simulated Loop and Fulfil on loopback, private Azurite).");
        var started = TimeProvider.System.GetTimestamp();
        var hostLog = new StringWriter(CultureInfo.InvariantCulture);
        SandboxEnvironment? sandbox = null;
        RunningHost? host = null;
        try
        {
            console.MarkupLine("Starting Azurite, the Loop and Fulfil sandboxes and the serve host…");
            sandbox = await SandboxEnvironment.StartAsync(context.Stdout, context.Stopping, tryton).ConfigureAwait(false);
            var configuration = CliConfiguration.Build(context, DemoSettings(sandbox));
            host = await ServeHost.StartAsync(configuration, TextWriter.Synchronized(hostLog), sandbox, context.Stopping).ConfigureAwait(false);
            sandbox.SendWebhooksTo(host.WebhookUrl);
            console.MarkupLine($"Host {Markup.Escape(host.BaseAddress.ToString())}; Loop sends signed webhooks to {Markup.Escape(host.WebhookUrl.ToString())}.");

            if (sandbox.Tryton is { } engine)
            {
                return await RunOnTrytonAsync(context, console, sandbox, host, engine, timeout, started, hostLog).ConfigureAwait(false);
            }

            // As a deployment starts: the commerce sync gives Loop the merchant's catalogue, customers and orders.
            console.MarkupLine("Commerce sync backfill (Fulfil → Loop):");
            var sync = await SyncCommand.BackfillAsync(host.Services.GetRequiredService<CommerceSyncJob>(), context.Stdout, context.Stopping).ConfigureAwait(false);
            if (!sync.Completed || sync.Failed > 0)
            {
                context.Stderr.WriteLine("The commerce sync backfill did not complete; the exchange scenario will fail.");
            }

            using var run = new DemoRun(sandbox, host.Services, host.BaseAddress, TimeProvider.System.GetUtcNow() + timeout, TimeProvider.System);
            var scenarios = DemoScenarios.All(run);
            var failures = await RunScenariosAsync(console, run, scenarios, host.Services, context.Stopping).ConfigureAwait(false);

            await PrintFulfilAsync(console, run, context.Stopping).ConfigureAwait(false);
            foreach (var note in DemoScenarios.NotYetAvailable)
            {
                console.MarkupLine("[yellow]Not in this demo yet:[/] " + Markup.Escape(note));
            }

            var elapsed = TimeProvider.System.GetElapsedTime(started);
            if (failures.Count == 0)
            {
                console.MarkupLine($"[green]All {scenarios.Count} scenarios ended as expected[/] in {elapsed.TotalSeconds:0.0} s.");
                return 0;
            }

            foreach (var (name, reason) in failures)
            {
                context.Stderr.WriteLine($"Scenario failed: {name}: {reason}");
            }

            context.Stderr.WriteLine("Host log:");
            context.Stderr.WriteLine(hostLog.ToString());
            return 1;
        }
        catch (InvalidOperationException ex) when (host is null)
        {
            context.Stderr.WriteLine("The demo could not start: " + ex.Message);
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

    private static async Task<int> RunOnTrytonAsync(CliContext context, IAnsiConsole console, SandboxEnvironment sandbox, RunningHost host, LoopFulfil.Sandbox.Tryton.TrytonEngine engine, TimeSpan timeout, long started, StringWriter hostLog)
    {
        console.MarkupLine($"Fulfil is Tryton 6.0 at {Markup.Escape(engine.BaseAddress.ToString())} (database in {Markup.Escape(engine.DataDirectory)}).");
        using var http = new HttpClient { BaseAddress = engine.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var tryton = new LoopFulfil.Core.Fulfil.FulfilHttp(http, new LoopFulfil.Core.Fulfil.FulfilOptions { ApiKey = engine.ApiKey, CompanyId = engine.CompanyId });
        using var run = new DemoRun(sandbox, host.Services, host.BaseAddress, TimeProvider.System.GetUtcNow() + timeout, TimeProvider.System);
        var watermark = await new TrytonBooks(tryton).WatermarkAsync(context.Stopping).ConfigureAwait(false);
        var scenarios = TrytonDemo.Scenarios(run, tryton);
        var failures = await RunScenariosAsync(console, run, scenarios, host.Services, context.Stopping).ConfigureAwait(false);
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        if (failures.Count > 0)
        {
            foreach (var (name, reason) in failures)
            {
                context.Stderr.WriteLine($"Scenario failed: {name}: {reason}");
            }

            context.Stderr.WriteLine("Host log:");
            context.Stderr.WriteLine(hostLog.ToString());
            await TrytonDemo.PrintBooksAsync(console, tryton, context.Stopping).ConfigureAwait(false);
            await TrytonDemo.PrintBooksLineAsync(console, tryton, watermark, sandbox, context.Stopping).ConfigureAwait(false);
            return 1;
        }

        console.MarkupLine($"[green]All {scenarios.Count} scenarios ended as expected[/] in {elapsed.TotalSeconds:0.0} s (Tryton start included).");
        await TrytonDemo.PrintBooksAsync(console, tryton, context.Stopping).ConfigureAwait(false);
        await TrytonDemo.PrintBooksLineAsync(console, tryton, watermark, sandbox, context.Stopping).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Sandbox settings, a free port, and quick polling so the demo finishes in seconds.</summary>
    private static Dictionary<string, string?> DemoSettings(SandboxEnvironment sandbox)
    {
        var settings = new Dictionary<string, string?>(sandbox.Settings, StringComparer.OrdinalIgnoreCase)
        {
            ["LocalHost:Urls"] = "http://127.0.0.1:0",
            ["LocalHost:PollIntervalMilliseconds"] = "100",
            ["LocalHost:ShutdownGraceSeconds"] = "5",
            ["LocalHost:MaxRetryBackoffSeconds"] = "2",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        return settings;
    }

    private static async Task<List<(string Name, string Reason)>> RunScenariosAsync(
        IAnsiConsole console, DemoRun run, IReadOnlyList<DemoScenario> scenarios, IServiceProvider services, CancellationToken cancellationToken)
    {
        var outcomes = new string?[scenarios.Count];
        var began = TimeProvider.System.GetTimestamp();

        async Task RunOneAsync(int i, ProgressTask? task)
        {
            var scenario = scenarios[i];
            try
            {
                await scenario.ActAsync(run, cancellationToken).ConfigureAwait(false);
                task?.Increment(1);
                outcomes[i] = await PollAsync(run, scenario, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcomes[i] = $"{ex.GetType().Name}: {ex.Message}";
            }

            var mark = outcomes[i] is null ? "[green]✓[/] " : "[red]✗[/] ";
            if (task is null)
            {
                console.MarkupLine($"  {mark}{Markup.Escape(scenario.Name)} ({TimeProvider.System.GetElapsedTime(began).TotalSeconds:0.0} s)");
            }
            else
            {
                task.Description = mark + Markup.Escape(scenario.Name);
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }

        if (console.Profile.Capabilities.Interactive)
        {
            await console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn())
                .StartAsync(progress => Task.WhenAll(scenarios.Select((s, i) => RunOneAsync(i, progress.AddTask(Markup.Escape(s.Name), maxValue: 2)))))
                .ConfigureAwait(false);
        }
        else
        {
            // Redirected output: one line per scenario as it settles, instead of a redrawn display.
            console.MarkupLine($"Running {scenarios.Count} scenarios…");
            await Task.WhenAll(scenarios.Select((_, i) => RunOneAsync(i, null))).ConfigureAwait(false);
        }

        // Nothing may still be queued or in flight; then every scenario is checked again, so a late duplicate shows.
        await DrainAsync(run, services.GetRequiredService<IQueueStore>(), cancellationToken).ConfigureAwait(false);
        var failures = new List<(string Name, string Reason)>();
        var table = new Table().Border(TableBorder.Rounded).Title("Scenarios").AddColumns("Scenario", "Expected", "Result");
        for (var i = 0; i < scenarios.Count; i++)
        {
            var reason = outcomes[i] ?? await scenarios[i].CheckAsync(run, cancellationToken).ConfigureAwait(false);
            if (reason is not null)
            {
                failures.Add((scenarios[i].Name, reason));
            }

            table.AddRow(Markup.Escape(scenarios[i].Name), Markup.Escape(scenarios[i].Expected), reason is null ? "[green]as expected[/]" : "[red]" + Markup.Escape(reason) + "[/]");
        }

        console.Write(table);
        return failures;
    }

    private static async Task<string?> PollAsync(DemoRun run, DemoScenario scenario, CancellationToken cancellationToken)
    {
        while (true)
        {
            var reason = await scenario.CheckAsync(run, cancellationToken).ConfigureAwait(false);
            if (reason is null)
            {
                return null;
            }

            if (TimeProvider.System.GetUtcNow() > run.Deadline)
            {
                return "timed out: " + reason;
            }

            await Task.Delay(150, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task DrainAsync(DemoRun run, IQueueStore queues, CancellationToken cancellationToken)
    {
        while (TimeProvider.System.GetUtcNow() < run.Deadline)
        {
            if (await queues.GetApproximateCountAsync(QueueNames.LoopReturns, cancellationToken).ConfigureAwait(false) == 0
                && await queues.GetApproximateCountAsync(QueueNames.LoopExchanges, cancellationToken).ConfigureAwait(false) == 0)
            {
                return;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task PrintFulfilAsync(IAnsiConsole console, DemoRun run, CancellationToken cancellationToken)
    {
        var state = run.Sandbox.Fulfil.State;
        string Sku(int? productId) => productId is { } value ? state.Get("product.product", value).Text("code") ?? "?" : "?";

        var returns = new Table().Border(TableBorder.Rounded).Title("Fulfil: return orders")
            .AddColumns("Reference", "Loop return", "State", "Lines", "Return shipment");
        foreach (var order in state.Where("sale.sale", r => Equals(r.GetValueOrDefault("is_return"), true)))
        {
            var lines = state.Where("sale.line", l => Equals(l.GetValueOrDefault("sale"), order.Id))
                .Select(l => $"{Sku(l.Ref("product"))} × {-l.Number("quantity"):0.##}");
            returns.AddRow(
                Markup.Escape(order.Text("reference") ?? "-"), Markup.Escape(order.Text("channel_identifier") ?? "-"),
                Markup.Escape(order.State ?? "-"), Markup.Escape(string.Join(", ", lines)),
                Markup.Escape(string.Join(", ", state.Where("stock.shipment.out.return", x => Equals(x.GetValueOrDefault("origin_sale"), order.Id)).Select(x => x.State))));
        }

        console.Write(returns);

        var documents = new Table().Border(TableBorder.Rounded).Title("Fulfil: money and exchange documents").AddColumns("Kind", "Count", "Detail");
        var creditNotes = state.Where("account.invoice", r => Equals(r.GetValueOrDefault("type"), "out") && (r.GetValueOrDefault("reference") as string ?? "").EndsWith("-CN", StringComparison.Ordinal));
        var journals = state.JournalEntries();
        var exchanges = state.Where("sale.sale", r => Equals(r.GetValueOrDefault("channel"), FulfilSandboxDemo.ExchangeChannelId) && !Equals(r.GetValueOrDefault("is_return"), true));
        documents.AddRow("Credit notes", creditNotes.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", creditNotes.Select(c => $"{c.Text("reference")} ({c.State})"))));
        documents.AddRow("Journal entries", journals.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", journals.Select(j => $"{j.Text("description")} ({j.State})"))));
        documents.AddRow("Exchange orders", exchanges.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", exchanges.Select(e => $"{e.Text("reference")} ({e.State})"))));
        console.Write(documents);

        string[] locations = [FulfilSandboxDemo.SellableLocationCode, FulfilSandboxDemo.QuarantineLocationCode, FulfilSandboxDemo.DamagedLocationCode];
        var stock = new Table().Border(TableBorder.Rounded).Title("Fulfil: stock by location (on hand)").AddColumn("SKU");
        foreach (var location in locations)
        {
            stock.AddColumn(new TableColumn(location).RightAligned());
        }

        foreach (var sku in FulfilSandboxDemo.Catalog.Select(c => c.Sku).Append(FulfilSandboxDemo.ArchivedSku))
        {
            stock.AddRow([Markup.Escape(sku), .. locations.Select(l => state.StockOf(sku, l).ToString("0.##", CultureInfo.InvariantCulture))]);
        }

        console.Write(stock);

        var open = new List<ExceptionRecord>();
        await foreach (var record in run.Exceptions.ListAsync(ExceptionStatus.Open, null, cancellationToken).ConfigureAwait(false))
        {
            open.Add(record);
        }

        console.MarkupLine($"[bold]Open exceptions ({open.Count})[/] — each goes to its owner:");
        if (open.Count > 0)
        {
            console.Write(ExceptionsCommand.Table(open));
        }
    }
}
