using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Reconciliation;

public sealed class ReconciliationPartsTests
{
    [Theory]
    [InlineData("LOOP-123", "123", null)]
    [InlineData("LOOP-123-CN", "123", "CN")]
    [InlineData("LOOP-123-SC", "123", "SC")]
    [InlineData("LOOP-123-EXC", "123", "EXC")]
    [InlineData("LOOP-123-EXC-1001", "123", "EXC-1001")]
    [InlineData("LOOP-123-RESTOCK-STOR-A1", "123", "RESTOCK-STOR-A1")]
    [InlineData("LOOP-ab-12-UPSELL", "ab-12", "UPSELL")]
    [InlineData("LOOP-123-CNX", "123-CNX", null)]
    public void Loop_references_split_into_return_id_and_suffix(string reference, string returnId, string? suffix)
    {
        Assert.Equal(new LoopReferences.Parsed(returnId, suffix), LoopReferences.Default.Parse(reference));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("LOOP-")]
    [InlineData("SO-123")]
    [InlineData("loop-123-CN")]
    public void Other_references_are_not_loop_references(string? reference) => Assert.Null(LoopReferences.Default.Parse(reference));

    [Fact]
    public void References_are_built_and_parsed_with_the_deployments_own_prefix()
    {
        var references = LoopReferences.From(new ReturnsOptions { ReturnOrderReferencePrefix = "RMA-" });

        Assert.Equal(["RMA-77", "RMA-77-CN", "RMA-77-RESTOCK-STOR", "RMA-77-"], [references.ReturnOrder("77"), references.Of("77", LoopReferences.CreditNote), references.RestockTo("77", "STOR"), references.DocumentsOf("77")]);
        Assert.Equal(new LoopReferences.Parsed("77", "SETTLE"), references.Parse("RMA-77-SETTLE"));
        Assert.Equal(new LoopReferences.Parsed("77", null), references.Parse("RMA-77"));
        // Another deployment's (or the default) prefix is not ours.
        Assert.Null(references.Parse("LOOP-77-CN"));
    }

    [Fact]
    public void Restock_latency_is_median_and_nearest_rank_p95()
    {
        double[] hours = [.. Enumerable.Range(1, 20).Select(i => (double)i)];

        var latency = ReconciliationJob.Latency(hours);

        Assert.Equal((20, 10.5, 19.0), (latency.Samples, latency.MedianHours!.Value, latency.P95Hours!.Value));
        Assert.Equal(new RestockLatency(0, null, null), ReconciliationJob.Latency([]));
        Assert.Equal((7.0, 7.0), (ReconciliationJob.Latency([7.0]).MedianHours!.Value, ReconciliationJob.Latency([7.0]).P95Hours!.Value));
    }

    [Fact]
    public void Scheduled_run_covers_the_previous_utc_day()
    {
        (var from, var to) = ReconciliationJob.PreviousDay(new DateTimeOffset(2026, 3, 10, 2, 0, 5, TimeSpan.FromHours(1)));

        Assert.Equal(new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero), from);
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), to);
    }

    [Fact]
    public void Owners_come_from_exception_categories_where_a_kind_has_one()
    {
        var exceptions = new ExceptionOptions();
        exceptions.Owners[ExceptionCategory.AmountMismatch] = "controller";
        var options = new ReconciliationOptions();

        Assert.Equal("controller", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.CreditNoteMismatch, exceptions, options));
        Assert.Equal("controller", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.JournalMismatch, exceptions, options));
        Assert.Equal("cx", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.MissingExchangeOrder, exceptions, options));
        Assert.Equal("operations", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.RestockDelayed, exceptions, options));
        Assert.Equal("finance", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.DuplicateDocument, exceptions, options));
        Assert.Equal("operations", ReconciliationMismatchKinds.OwnerOf(ReconciliationMismatchKind.MissingReturnOrder, exceptions, options));
    }

    [Fact]
    public void Report_function_is_an_admin_get_under_api_ops()
    {
        var run = typeof(OpsReconciliationFunction).GetMethod(nameof(OpsReconciliationFunction.Run))!;

        Assert.Equal("OpsReconciliationReport", run.GetCustomAttributes(typeof(FunctionAttribute), false).Cast<FunctionAttribute>().Single().Name);
        var trigger = run.GetParameters()[0].GetCustomAttributes(typeof(HttpTriggerAttribute), false).Cast<HttpTriggerAttribute>().Single();
        Assert.Equal(AuthorizationLevel.Admin, trigger.AuthLevel);
        Assert.Equal(["get"], trigger.Methods ?? []);
        Assert.Equal("ops/reconciliation/{name}", trigger.Route);
        Assert.Equal(("latest", "csv"), ReconciliationReports.SplitName("latest.csv"));
        Assert.Equal(("latest", "html"), ReconciliationReports.SplitName("latest.html"));
        Assert.Equal(("20260101T020000Z-Daily-abcdef", "json"), ReconciliationReports.SplitName("20260101T020000Z-Daily-abcdef"));
    }

    [Fact]
    public async Task Report_function_answers_404_before_a_run_then_html_csv_and_json_from_table_storage()
    {
        ITableStore tables = new AzureTableStore(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("rf"));
        var store = new ReconciliationReportStore(tables);
        var function = new OpsReconciliationFunction(new ReconciliationReports(store, new StaticOptions(new ReconciliationOptions())));

        Assert.Equal(404, Answer(await function.Run(new DefaultHttpContext().Request, "latest.html")).Status);

        var report = new ReconciliationReport
        {
            RunId = "20260310T020000Z-Daily-a1b2c3",
            Mode = ReconciliationMode.Daily,
            From = new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero),
            To = new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero),
            StartedAt = new DateTimeOffset(2026, 3, 10, 2, 0, 0, TimeSpan.Zero),
            CompletedAt = new DateTimeOffset(2026, 3, 10, 2, 0, 9, TimeSpan.Zero),
            ReturnsChecked = 41,
            Mismatches = [new ReconciliationMismatch(ReconciliationMismatchKind.JournalMismatch, "77", "finance", "LOOP-77-SC", "30.00", "20.00", "EUR", "The journal differs.")],
        };
        await store.SaveAsync(report, CancellationToken.None);

        var html = Answer(await function.Run(new DefaultHttpContext().Request, "latest.html"));
        Assert.Equal("text/html; charset=utf-8", html.ContentType);
        Assert.Contains("data-metric=\"returns-checked\">41<", html.Text, StringComparison.Ordinal);
        var csv = Answer(await function.Run(new DefaultHttpContext().Request, report.RunId + ".csv"));
        Assert.Equal("text/csv; charset=utf-8", csv.ContentType);
        Assert.Equal($"reconciliation-{report.RunId}.csv", csv.DownloadName);
        Assert.Contains("77,JournalMismatch,finance,LOOP-77-SC,30.00,20.00,EUR,no,", csv.Text, StringComparison.Ordinal);
        var json = Answer(await function.Run(new DefaultHttpContext().Request, "latest"));
        Assert.Contains("\"returnsChecked\":41", json.Text, StringComparison.Ordinal);
        var audit = new DefaultHttpContext();
        audit.Request.QueryString = new QueryString("?mode=Audit");
        Assert.Equal(404, Answer(await function.Run(audit.Request, "latest")).Status);
        var bad = new DefaultHttpContext();
        bad.Request.QueryString = new QueryString("?mode=Weekly");
        Assert.Equal(400, Answer(await function.Run(bad.Request, "latest")).Status);
    }

    private static LoopFulfil.Core.Hosting.OpsResponse Answer(Microsoft.AspNetCore.Mvc.IActionResult result) =>
        Assert.IsType<LoopFulfil.Functions.Http.OpsActionResult>(result).Response;

    private sealed class StaticOptions(ReconciliationOptions value) : IOptionsMonitor<ReconciliationOptions>
    {
        public ReconciliationOptions CurrentValue => value;

        public ReconciliationOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ReconciliationOptions, string?> listener) => null;
    }
}
