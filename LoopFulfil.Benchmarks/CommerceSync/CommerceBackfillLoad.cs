using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Storage;
using LoopFulfil.Sandbox.Azurite;
using LoopFulfil.Sandbox.Fulfil;
using LoopFulfil.Sandbox.Loop;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Benchmarks.CommerceSync;

/// <summary>
/// Load run of the commerce backfill (a console mode, not a BenchmarkDotNet job: one run takes minutes and what is
/// measured is a rate against a limit, not a method's time). Both sandboxes over loopback HTTP, Azurite for the
/// mappings, Loop's limit time-compressed (300 per second instead of per minute by default).
/// <code>
/// dotnet run -c Release --project LoopFulfil.Benchmarks -- commerce-backfill [--variants 5000] [--orders 10000]
///     [--limit 300] [--window-ms 1000] [--padding-ms window/60] [--concurrency 16] [--page 200] [--out artifacts/benchmarks/commerce-backfill.md]
/// </code>
/// Reports: the achieved Loop request rate as a ratio of the limit over the backfill (target ≥ 0.9), the busiest
/// rolling window (must never exceed the limit), Loop calls per record on the backfill (1 per record) and on a
/// second run with nothing changed (0), and on a third after one price change (1 call).
/// </summary>
public static class CommerceBackfillLoad
{
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var variants = Number("--variants", 5000, "Product variants in the Fulfil sandbox.");
        var orders = Number("--orders", 10000, "Shipped orders in the Fulfil sandbox.");
        var limit = Number("--limit", 300, "Loop's limit: requests per window.");
        var windowMs = Number("--window-ms", 1000, "Loop's rate window (time-compressed minute).");
        // The production padding is 1 s of 60 s; the same share of the compressed window unless told otherwise.
        var paddingMs = new Option<int?>("--padding-ms") { Description = "Limiter padding (default: window/60)." };
        var concurrency = Number("--concurrency", 16, "CommerceSync:MaxConcurrency.");
        var page = Number("--page", 200, "CommerceSync:PageSize.");
        var output = new Option<string>("--out")
        {
            Description = "Where the Markdown report is written.",
            DefaultValueFactory = _ => Path.Combine("artifacts", "benchmarks", "commerce-backfill.md"),
        };
        var command = new RootCommand("Load run of the commerce backfill against the sandboxes.")
        {
            variants, orders, limit, windowMs, paddingMs, concurrency, page, output,
        };
        command.HelpName = "dotnet run -c Release --project LoopFulfil.Benchmarks -- commerce-backfill";
        command.SetAction(parse =>
        {
            var window = parse.GetValue(windowMs);
            return RunAsync(
                parse.GetValue(variants), parse.GetValue(orders), parse.GetValue(limit), window,
                parse.GetValue(paddingMs) ?? Math.Max(1, window / 60), parse.GetValue(concurrency), parse.GetValue(page), parse.GetValue(output)!);
        });
        return command.Parse(args).InvokeAsync();
    }

    private static Option<int> Number(string name, int fallback, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback };

    private static async Task<int> RunAsync(int variants, int orders, int limit, int windowMs, int paddingMs, int concurrency, int page, string output)
    {
        var perTemplate = 5;

        Console.WriteLine($"Commerce backfill load: {variants} variants, {orders} orders, Loop limit {limit} per {windowMs} ms (padding {paddingMs} ms), concurrency {concurrency}, page {page}");
        using var azurite = await AzuriteProcess.StartAsync(TimeSpan.FromSeconds(90));
        await using var fulfil = await FulfilSandbox.StartAsync(new FulfilSandboxOptions { SeedDemoData = true });
        // The sandbox enforces the limit as Loop does (429 over it), so an overshoot shows as errors, not only as a count.
        await using var loop = await LoopSandbox.StartAsync(new LoopSandboxOptions { RateLimit = limit, RateLimitWindow = TimeSpan.FromMilliseconds(windowMs) });

        var loadAtStart = LoadAverage();
        var setup = Stopwatch.StartNew();
        var skus = Seed(fulfil.State, variants, orders, perTemplate);
        Console.WriteLine($"Seeded Fulfil sandbox in {setup.Elapsed.TotalSeconds:0.0}s");

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Fulfil:BaseUrl"] = fulfil.BaseAddress.ToString(),
            ["Fulfil:ApiKey"] = fulfil.ApiKey,
            ["Fulfil:WarehouseId"] = "1",
            ["Loop:BaseUrl"] = loop.ApiBaseUrl.ToString(),
            ["Loop:ApiKey"] = loop.ApiKey,
            ["Loop:RequestsPerMinute"] = limit.ToString(CultureInfo.InvariantCulture),
            ["Loop:RateLimitWindow"] = TimeSpan.FromMilliseconds(windowMs).ToString("c", CultureInfo.InvariantCulture),
            ["Loop:RateLimitWindowPadding"] = TimeSpan.FromMilliseconds(paddingMs).ToString("c", CultureInfo.InvariantCulture),
            ["CommerceSync:TableName"] = "bench" + Guid.NewGuid().ToString("N")[..12],
            ["CommerceSync:MaxConcurrency"] = concurrency.ToString(CultureInfo.InvariantCulture),
            ["CommerceSync:PageSize"] = page.ToString(CultureInfo.InvariantCulture),
            ["CommerceSync:RunBudget"] = "01:00:00",
            ["CommerceSync:WarehouseAddress1"] = "1 Depot Road",
            ["CommerceSync:WarehouseCity"] = "Springfield",
        }).Build();
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddLoopFulfilStorage(configuration)
            .AddLoopFulfilHttpResilience(configuration)
            .AddLoopFulfilFulfil(configuration)
            .AddLoopFulfilLoop(configuration)
            .AddLoopFulfilCommerceSync(configuration)
            .BuildServiceProvider();
        var job = services.GetRequiredService<CommerceSyncJob>();

        var lastLine = DateTime.MinValue;
        var progress = new SyncProgressPrinter(p =>
        {
            if (DateTime.UtcNow - lastLine > TimeSpan.FromSeconds(5))
            {
                lastLine = DateTime.UtcNow;
                Console.WriteLine($"  {p.Phase,-10} {p.Done,7}/{p.Total,-7} loop writes {p.LoopWrites,7}  {p.LoopRequestsPerSecond,6:0.0}/s  ETA {p.EstimatedRemaining?.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) ?? "?"}");
            }
        });

        var requestsBefore = loop.Requests.Count;
        var fulfilBefore = fulfil.Requests.Count;
        var backfill = await job.RunAsync(SyncMode.Backfill, progress, CancellationToken.None);
        var fulfilRequests = fulfil.Requests.Skip(fulfilBefore).ToList();
        var backfillRequests = loop.Requests.Skip(requestsBefore).ToList();
        var writesAfterBackfill = loop.CommerceWrites.Count;

        var second = await job.RunAsync(SyncMode.Incremental, null, CancellationToken.None);
        var writesAfterSecond = loop.CommerceWrites.Count;

        fulfil.State.SetProductPrice(skus[variants / 2], 123.45m);
        var third = await job.RunAsync(SyncMode.Incremental, null, CancellationToken.None);
        var writesAfterThird = loop.CommerceWrites.Count;

        // The rate while Loop was being written to: from the first Loop request to the last of the backfill.
        var span = backfillRequests.Count > 1 ? backfillRequests[^1].At - backfillRequests[0].At : TimeSpan.Zero;
        var window = TimeSpan.FromMilliseconds(windowMs);
        var achievedPerWindow = span > TimeSpan.Zero ? (backfillRequests.Count - 1) / (span / window) : 0;
        var ratio = achievedPerWindow / limit;
        var overallRatio = backfillRequests.Count / (backfill.Elapsed / window) / limit;
        var busiest = BusiestWindow(backfillRequests.Select(r => r.At).ToList(), window);
        var records = backfill.Entities.Sum(e => e.Sent + e.Unchanged + e.NotSent + e.Failed);
        var statuses429 = backfillRequests.Count(r => r.StatusCode == 429);

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# Commerce backfill load ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Data: {variants} variants ({variants / perTemplate} templates, plus 7 demo), {orders} orders (2 lines each, 90 % shipped), 1 warehouse. Loop limit {limit} requests per {windowMs} ms (time-compressed minute), limiter padding {paddingMs} ms. Concurrency {concurrency}, page {page}. Machine: {Environment.ProcessorCount} cores, shared.");
        report.AppendLine();
        report.AppendLine("| figure | value |");
        report.AppendLine("|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| backfill completed | {backfill.Completed} (failed {backfill.Failed}) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| backfill wall time | {backfill.Elapsed.TotalSeconds:0.0} s |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Loop requests in backfill | {backfillRequests.Count} (429s: {statuses429}) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| achieved Loop rate / limit (first to last Loop request) | **{ratio:0.000}** |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| achieved Loop rate / limit (whole run incl. Fulfil reads before the first write) | {overallRatio:0.000} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| busiest rolling window | {busiest} requests (limit {limit}) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| records pushed (all kinds) | {records} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Loop calls per record, backfill | {(double)writesAfterBackfill / Math.Max(1, records):0.000} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Loop calls per record, rerun with no change | {(double)(writesAfterSecond - writesAfterBackfill) / Math.Max(1, records):0.000} ({writesAfterSecond - writesAfterBackfill} calls, {second.Elapsed.TotalSeconds:0.0} s) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Loop calls after one price change | {writesAfterThird - writesAfterSecond} ({third.Elapsed.TotalSeconds:0.0} s) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| machine load average at the start / at the end (2 cores) | {loadAtStart} / {LoadAverage()} |");
        report.AppendLine();
        report.AppendLine("Loop request rate per resource while it was being written (requests between its first and last request):");
        report.AppendLine();
        report.AppendLine("| resource | requests | span | rate / limit |");
        report.AppendLine("|---|---|---|---|");
        foreach (var group in backfillRequests.GroupBy(r => Resource(r.Path)).OrderBy(g => g.Min(r => r.At)))
        {
            var first = group.Min(r => r.At);
            var lastAt = group.Max(r => r.At);
            var rate = lastAt > first ? (group.Count() - 1) / ((lastAt - first) / window) / limit : double.NaN;
            report.AppendLine(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {(lastAt - first).TotalSeconds:0.0} s | {rate:0.000} |");
        }

        report.AppendLine();
        report.AppendLine("Fulfil sandbox: time spent answering, by call (the in-process sandbox shares the CPU with the job; a real Fulfil does not):");
        report.AppendLine();
        report.AppendLine("| call | requests | total answering time | share of backfill wall time |");
        report.AppendLine("|---|---|---|---|");
        foreach (var group in fulfilRequests.GroupBy(r => r.Path[(r.Path.IndexOf("/model/", StringComparison.Ordinal) + 1)..]).OrderByDescending(g => g.Sum(r => r.Elapsed.Ticks)).Take(8))
        {
            var total = TimeSpan.FromTicks(group.Sum(r => r.Elapsed.Ticks));
            report.AppendLine(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {total.TotalSeconds:0.0} s | {total / backfill.Elapsed:0.00} |");
        }

        report.AppendLine();
        report.AppendLine("| entity | sent | unchanged | not sent | failed | skipped |");
        report.AppendLine("|---|---|---|---|---|---|");
        foreach (var e in backfill.Entities)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {e.Entity} | {e.Sent} | {e.Unchanged} | {e.NotSent} | {e.Failed} | {e.Skipped} |");
        }

        Console.WriteLine();
        Console.WriteLine(report.ToString());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, report.ToString());
        Console.WriteLine($"Written to {output}");
        return backfill.Completed && busiest <= limit ? 0 : 1;
    }

    /// <summary>Catalogue (templates of <paramref name="perTemplate"/> variants, sellable stock), customers, and shipped orders.</summary>
    private static List<string> Seed(FulfilSandboxState state, int variants, int orders, int perTemplate)
    {
        var skus = new List<string>(variants);
        var ids = new List<int>(variants);
        var template = 0;
        for (var i = 0; i < variants; i++)
        {
            if (i % perTemplate == 0)
            {
                template = state.AddTemplate($"Load product {i / perTemplate}", 20m + (i % 50));
            }

            var sku = $"LOAD-{i:00000}";
            ids.Add(state.AddProduct(sku, $"Load variant {i}", 20m + (i % 50) + 0.99m, templateId: template));
            skus.Add(sku);
        }

        // Stock in one go per product would be a move each; the sandbox sums moves, so this is the realistic shape.
        for (var i = 0; i < variants; i++)
        {
            state.SetStock(skus[i], FulfilSandboxDemo.SellableLocationCode, i % 17);
        }

        var parties = Enumerable.Range(0, Math.Max(1, orders / 10)).Select(i => state.AddParty($"Load Customer {i}")).ToList();
        for (var i = 0; i < orders; i++)
        {
            var sale = state.AddSale($"#L{i:000000}", null, parties[i % parties.Count], i % 3 == 0 ? "done" : "processing",
                (skus[(i * 7) % variants], 1m, 21.99m), (skus[(i * 13 + 1) % variants], 2m, 9.50m));
            if (i % 10 != 0)
            {
                state.ShipSale(sale);
            }
        }

        return skus;
    }

    private static string Resource(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 2 ? (parts[^1] == "product-variants" ? "product-variants" : parts[2]) : path;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static int BusiestWindow(List<TimeSpan> arrivals, TimeSpan window)
    {
        var sorted = arrivals.Order().ToList();
        var best = 0;
        var start = 0;
        for (var end = 0; end < sorted.Count; end++)
        {
            while (sorted[end] - sorted[start] >= window)
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    private sealed class SyncProgressPrinter(Action<SyncProgress> print) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => print(value);
    }
}
