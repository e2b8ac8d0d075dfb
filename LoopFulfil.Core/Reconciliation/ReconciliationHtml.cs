using System.Globalization;
using System.Net;
using System.Text;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// The report as one self-contained HTML page a finance lead reads in a minute: the key numbers first, a 30-day
/// chart as inline SVG, then what needs action and who owns it. No scripts, no external fonts, styles or images
/// (it is served behind the admin key and may be saved or mailed as a file). Elements carry <c>data-metric</c>
/// attributes so checks read numbers without parsing prose.
/// </summary>
public static class ReconciliationHtml
{
    private const int ChartWidth = 640;
    private const int ChartHeight = 140;

    public static string Render(ReconciliationReport report, int historyDays = 30)
    {
        ArgumentNullException.ThrowIfNull(report);
        ReconciliationMismatch[] action = [.. report.NeedingAction.OrderBy(m => m.Owner, StringComparer.Ordinal).ThenBy(m => m.Kind).ThenBy(m => m.ReturnId, StringComparer.Ordinal)];
        var healed = report.Mismatches.Count(m => m.Healed);
        var h = new StringBuilder(16 * 1024);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Append("<title>LoopFulfil reconciliation ").Append(E(Day(report.From))).Append(" – ").Append(E(Day(report.To.AddTicks(-1)))).Append("</title>");
        h.Append("<style>")
            .Append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d2430;background:#fff;max-width:1000px}")
            .Append("h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.sub{color:#5b6472;font-size:13px}")
            .Append(".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #d8dde5;border-radius:6px;padding:10px 14px;min-width:140px}")
            .Append(".card .n{font-size:26px;font-weight:600}.card .l{font-size:12px;color:#5b6472}.bad .n{color:#b42318}.ok .n{color:#067647}")
            .Append("table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ef}")
            .Append("th{background:#f4f6f9;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.diff{color:#b42318;font-weight:600}")
            .Append("td.ref,td.id,td.when{white-space:nowrap}")
            .Append(".owner{display:inline-block;padding:1px 6px;border-radius:4px;background:#eef2f8;font-size:12px}")
            .Append("</style></head><body>");

        h.Append("<h1>Loop ↔ Fulfil reconciliation</h1><div class=\"sub\">")
            .Append(E(report.Mode.ToString())).Append(" run <span data-metric=\"run-id\">").Append(E(report.RunId)).Append("</span> · returns updated ")
            .Append(E(Stamp(report.From))).Append(" to ").Append(E(Stamp(report.To))).Append(" · finished ").Append(E(Stamp(report.CompletedAt))).Append("</div>");

        h.Append("<div class=\"cards\">");
        Card(h, "returns-checked", report.ReturnsChecked.ToString(CultureInfo.InvariantCulture), "returns checked", null);
        Card(h, "needs-action", action.Length.ToString(CultureInfo.InvariantCulture), "mismatches need action", action.Length > 0 ? "bad" : "ok");
        Card(h, "healed", healed.ToString(CultureInfo.InvariantCulture), "repaired automatically", null);
        Card(h, "open-exceptions", report.OpenExceptions.ToString(CultureInfo.InvariantCulture), "open exceptions", report.OpenExceptions > 0 ? "bad" : "ok");
        Card(h, "restock-median", Hours(report.RestockLatency.MedianHours), $"restock median (p95 {Hours(report.RestockLatency.P95Hours)}, {report.RestockLatency.Samples} returns)", null);
        Card(h, "confirmed-without-processing", report.ConfirmedWithoutProcessing.Count.ToString(CultureInfo.InvariantCulture), "closed without processing, confirmed by finance (nothing to post)", null);
        h.Append("</div>");

        h.Append("<h2>Money (closed returns)</h2><table data-section=\"totals\"><tr><th>Refund type</th><th>Currency</th><th class=\"num\">Returns</th><th class=\"num\">Loop</th><th class=\"num\">Fulfil</th><th class=\"num\">Difference</th></tr>");
        if (report.Totals.Count == 0)
        {
            h.Append("<tr><td colspan=\"6\">No closed returns with money in this window.</td></tr>");
        }

        foreach (var t in report.Totals)
        {
            var diff = t.FulfilAmount - t.LoopAmount;
            var key = $"{t.Type}-{t.Currency}";
            h.Append("<tr data-total=\"").Append(E(key)).Append("\"><td>").Append(E(Label(t.Type))).Append("</td><td>").Append(E(t.Currency))
                .Append("</td><td class=\"num\">").Append(t.Returns.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td class=\"num\" data-metric=\"loop-").Append(E(key)).Append("\">").Append(Money(t.LoopAmount))
                .Append("</td><td class=\"num\" data-metric=\"fulfil-").Append(E(key)).Append("\">").Append(Money(t.FulfilAmount))
                .Append("</td><td class=\"num").Append(diff == 0 ? "" : " diff").Append("\">").Append(Money(diff)).Append("</td></tr>");
        }

        h.Append("</table>");

        h.Append("<h2>Last ").Append(historyDays.ToString(CultureInfo.InvariantCulture)).Append(" days</h2>");
        AppendChart(h, report, historyDays);

        h.Append("<h2>Needs action</h2>");
        if (action.Length == 0)
        {
            h.Append("<p data-section=\"action\">Nothing: Loop, Fulfil and the ledger agree (or were repaired).</p>");
        }
        else
        {
            h.Append("<table data-section=\"action\"><tr><th>Owner</th><th>Category</th><th>Return</th><th>Reference</th><th class=\"num\">Expected</th><th class=\"num\">Actual</th><th>Currency</th><th>What</th></tr>");
            foreach (var m in action)
            {
                h.Append("<tr data-kind=\"").Append(E(m.Kind.ToString())).Append("\"><td><span class=\"owner\">").Append(E(m.Owner)).Append("</span></td><td>").Append(E(m.Kind.ToString()))
                    .Append("</td><td class=\"id\">").Append(E(m.ReturnId)).Append("</td><td class=\"ref\">").Append(E(m.Reference ?? ""))
                    .Append("</td><td class=\"num\">").Append(E(m.Expected)).Append("</td><td class=\"num diff\">").Append(E(m.Actual))
                    .Append("</td><td>").Append(E(m.Currency ?? "")).Append("</td><td>").Append(E(m.Detail)).Append("</td></tr>");
            }

            h.Append("</table>");
        }

        h.Append("<h2>Mismatches by category</h2><table data-section=\"counts\"><tr><th>Category</th><th>Owner</th><th class=\"num\">Found</th><th class=\"num\">Repaired</th></tr>");
        if (report.MismatchCounts.Count == 0)
        {
            h.Append("<tr><td colspan=\"4\">None.</td></tr>");
        }

        foreach (var c in report.MismatchCounts)
        {
            h.Append("<tr><td>").Append(E(c.Kind.ToString())).Append("</td><td><span class=\"owner\">").Append(E(c.Owner)).Append("</span></td><td class=\"num\" data-metric=\"count-")
                .Append(E(c.Kind.ToString())).Append("\">").Append(c.Count.ToString(CultureInfo.InvariantCulture)).Append("</td><td class=\"num\">").Append(c.Healed.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>");
        }

        h.Append("</table>");

        h.Append("<h2>Oldest open exceptions</h2><table data-section=\"exceptions\"><tr><th>Since</th><th>Category</th><th>Owner</th><th>Return</th><th class=\"num\">Seen</th><th>Message</th></tr>");
        if (report.OldestOpenExceptions.Count == 0)
        {
            h.Append("<tr><td colspan=\"6\">None open.</td></tr>");
        }

        foreach (var e in report.OldestOpenExceptions)
        {
            h.Append("<tr><td class=\"when\">").Append(E(Stamp(e.FirstSeen))).Append("</td><td>").Append(E(e.Category)).Append("</td><td><span class=\"owner\">").Append(E(e.Owner))
                .Append("</span></td><td>").Append(E(e.ReturnId ?? "")).Append("</td><td class=\"num\">").Append(e.Attempts.ToString(CultureInfo.InvariantCulture))
                .Append("×</td><td>").Append(E(e.Message)).Append("</td></tr>");
        }

        h.Append("</table></body></html>");
        return h.ToString();
    }

    /// <summary>Bars: mismatches per day (repaired part lighter); a day without a run is left empty, not drawn as zero.</summary>
    private static void AppendChart(StringBuilder h, ReconciliationReport report, int historyDays)
    {
        var last = ReconciliationReportStore.DayOf(report);
        var first = last.AddDays(1 - Math.Max(1, historyDays));
        var byDay = report.History.ToDictionary(d => d.Date);
        var max = Math.Max(1, report.History.Count == 0 ? 0 : report.History.Max(d => d.Mismatches));
        const int left = 28;
        const int bottom = 20;
        var plotWidth = ChartWidth - left - 4;
        var plotHeight = ChartHeight - bottom - 8;
        var slot = plotWidth / (double)historyDays;
        h.Append("<svg data-section=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(ChartWidth).Append("\" height=\"").Append(ChartHeight)
            .Append("\" viewBox=\"0 0 ").Append(ChartWidth).Append(' ').Append(ChartHeight).Append("\" role=\"img\" aria-label=\"Mismatches per day\">");
        h.Append("<title>Mismatches per day, ").Append(E(Day(first))).Append(" to ").Append(E(Day(last))).Append("</title>");
        var baseline = ChartHeight - bottom;
        h.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{baseline}\" x2=\"{ChartWidth - 4}\" y2=\"{baseline}\" stroke=\"#9aa3af\"/>");
        h.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{baseline - plotHeight + 4}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5b6472\">{max}</text>");
        h.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{baseline}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5b6472\">0</text>");
        for (var i = 0; i < historyDays; i++)
        {
            var day = first.AddDays(i);
            var x = left + (i * slot) + 1;
            var w = Math.Max(1, slot - 2);
            if (byDay.TryGetValue(day, out var d))
            {
                var total = d.Mismatches * plotHeight / (double)max;
                var repaired = Math.Min(d.Healed, d.Mismatches) * plotHeight / (double)max;
                h.Append(CultureInfo.InvariantCulture, $"<g data-day=\"{Day(day)}\" data-mismatches=\"{d.Mismatches}\"><title>{Day(day)}: {d.Mismatches} mismatches ({d.Healed} repaired), {d.ReturnsChecked} returns</title>");
                h.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{baseline - total:0.#}\" width=\"{w:0.#}\" height=\"{total - repaired:0.#}\" fill=\"#d9534f\"/>");
                h.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{baseline - repaired:0.#}\" width=\"{w:0.#}\" height=\"{repaired:0.#}\" fill=\"#f2b8b5\"/>");
                if (d.Mismatches == 0)
                {
                    h.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{baseline - 2}\" width=\"{w:0.#}\" height=\"2\" fill=\"#3c9d5d\"/>");
                }

                h.Append("</g>");
            }

            // Weekly ticks and the last day, without crowding the last tick into the one before it.
            if ((i % 7 == 0 && historyDays - 1 - i >= 4) || i == historyDays - 1)
            {
                h.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + (w / 2):0.#}\" y=\"{ChartHeight - 6}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6472\">{day:MM-dd}</text>");
            }
        }

        h.Append("</svg><div class=\"sub\">Red: mismatches needing action; light red: repaired by the run; green: a clean day; blank: no daily run.</div>");
    }

    private static void Card(StringBuilder h, string metric, string number, string label, string? tone)
    {
        h.Append("<div class=\"card").Append(tone is null ? "" : " " + tone).Append("\"><div class=\"n\" data-metric=\"").Append(metric).Append("\">")
            .Append(E(number)).Append("</div><div class=\"l\">").Append(E(label)).Append("</div></div>");
    }

    private static string Label(RefundType type) => type switch
    {
        RefundType.CashRefund => "Cash refund (credit notes)",
        RefundType.StoreCredit => "Store credit (journals / gift cards)",
        _ => "Exchange (sales orders)",
    };

    private static string Money(decimal value) => value.ToString("#,##0.00", CultureInfo.InvariantCulture);

    private static string Hours(double? hours) => hours is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) + " h" : "–";

    private static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
