using System.Text.RegularExpressions;
using LoopFulfil.Core.Reconciliation;

namespace LoopFulfil.Tests.Reconciliation;

public sealed partial class ReconciliationReportTests(ReportScenario scenario) : IClassFixture<ReportScenario>
{
    [Fact]
    public void Scenario_report_lists_what_needs_action_with_owners_and_history_of_three_days()
    {
        var r = scenario.Report;

        Assert.Equal(3, r.ReturnsChecked);
        Assert.Equal(
            [(ReconciliationMismatchKind.MissingReturnOrder, "operations", 1), (ReconciliationMismatchKind.CreditNoteMismatch, "finance", 1), (ReconciliationMismatchKind.OrphanDocument, "finance", 1)],
            r.MismatchCounts.Select(c => (c.Kind, c.Owner, c.Count)).OrderBy(c => c.Kind));
        Assert.Equal(3, r.History.Count);
        Assert.All(r.History, d => Assert.Equal(3, d.Mismatches));
        // Only the credit note has an exception category (AmountMismatch); raised once, seen three times.
        var open = Assert.Single(r.OldestOpenExceptions);
        Assert.Equal(("AmountMismatch", "finance", scenario.ShortPaidReturnId, 3), (open.Category, open.Owner, open.ReturnId, open.Attempts));
        var cash = Assert.Single(r.Totals, t => t.Type == RefundType.CashRefund);
        // Cash refunded is the refund payments (54.99 + 50.00); the short credit note is its own mismatch.
        Assert.Equal((104.99m, 104.99m), (cash.LoopAmount, cash.FulfilAmount));
    }

    [Fact]
    public void Csv_has_one_row_per_mismatch_with_return_category_owner_expected_actual_currency()
    {
        var lines = scenario.Csv.Split("\r\n");

        Assert.Equal("return_id,category,owner,reference,expected,actual,currency,healed,exception_id,detail", lines[0]);
        Assert.Equal("", lines[^1]);
        string[][] rows = [.. lines[1..^1].Select(ParseCsvLine)];
        Assert.Equal(scenario.Report.Mismatches.Count, rows.Length);
        Assert.All(rows, row => Assert.Equal(10, row.Length));
        var cn = Assert.Single(rows, row => row[1] == nameof(ReconciliationMismatchKind.CreditNoteMismatch));
        Assert.Equal([scenario.ShortPaidReturnId, "finance", $"LOOP-{scenario.ShortPaidReturnId}-CN", "50.00", "45.00", "USD", "no"], [cn[0], cn[2], cn[3], cn[4], cn[5], cn[6], cn[7]]);
        Assert.StartsWith("AmountMismatch-", cn[8], StringComparison.Ordinal);
        var missing = Assert.Single(rows, row => row[1] == nameof(ReconciliationMismatchKind.MissingReturnOrder));
        Assert.Equal((scenario.MissingOrderReturnId, "operations", "missing"), (missing[0], missing[2], missing[5]));
    }

    [Fact]
    public void Csv_cells_are_quoted_and_formulas_neutralised()
    {
        Assert.Equal("plain", ReconciliationCsv.Cell("plain"));
        Assert.Equal("\"a,b\"", ReconciliationCsv.Cell("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", ReconciliationCsv.Cell("say \"hi\""));
        Assert.Equal("'=SUM(A1)", ReconciliationCsv.Cell("=SUM(A1)"));
        Assert.Equal("-12.50", ReconciliationCsv.Cell("-12.50"));
    }

    [Fact]
    public void Html_shows_the_key_numbers_and_loads_nothing_from_outside()
    {
        var html = scenario.Html;
        var r = scenario.Report;

        Assert.Contains("data-metric=\"returns-checked\">3<", html, StringComparison.Ordinal);
        Assert.Contains("data-metric=\"needs-action\">3<", html, StringComparison.Ordinal);
        Assert.Contains("data-metric=\"loop-CashRefund-USD\">104.99<", html, StringComparison.Ordinal);
        Assert.Contains("data-metric=\"fulfil-CashRefund-USD\">104.99<", html, StringComparison.Ordinal);
        Assert.Contains($"LOOP-{scenario.ShortPaidReturnId}-CN", html, StringComparison.Ordinal);
        Assert.Contains("<svg data-section=\"chart\"", html, StringComparison.Ordinal);
        Assert.Equal(r.History.Count, DayBars().Count(html));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.False(ExternalReference().IsMatch(html), "The page must not load anything (src/href/url()) from elsewhere.");
    }

    [Fact]
    public void Html_encodes_text_from_fulfil_and_loop()
    {
        var hostile = scenario.Report with
        {
            Mismatches = [new ReconciliationMismatch(ReconciliationMismatchKind.OrphanDocument, "<img src=x>", "finance", "LOOP-<b>", "a", "b", null, "<script>alert(1)</script>")],
        };

        var html = ReconciliationHtml.Render(hostile);

        Assert.DoesNotContain("<img src=x>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
    }

    internal static string[] ParseCsvLine(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }

    [GeneratedRegex("<g data-day=\"")]
    private static partial Regex DayBars();

    [GeneratedRegex("(src|href)\\s*=|url\\(|@import", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
