using System.Globalization;
using System.Net;
using System.Text;

namespace LoopFulfil.Core.Shadow;

public enum ShadowVerdict
{
    /// <summary>The existing process holds the same document (same units; a credit note with the same total).</summary>
    Matched,

    /// <summary>Both hold the document, with different amounts (or units): finance decides which is right.</summary>
    Differs,

    /// <summary>Planned by LoopFulfil, not in Fulfil: live mode will post it.</summary>
    MissingInFulfil,

    /// <summary>In Fulfil from the existing process, not planned: LoopFulfil would not post it (check why).</summary>
    OnlyInFulfil,

    /// <summary>Planned; the existing process's counterpart (payments, store credit) is not read.</summary>
    Planned,
}

/// <summary>One document of one return: what LoopFulfil planned against what the existing process holds.</summary>
/// <param name="Write">
/// Whether shadow mode planned the write that makes (or adopts) this document — <c>planned: model.method</c> — or,
/// when the return's chain stopped before it, <c>not planned: …</c> naming the planned write it waits on
/// (<see cref="ShadowReportBuilder"/>); null for rows that are not LoopFulfil's documents.
/// </param>
public sealed record ShadowReportRow(string ReturnId, string? OrderName, string Document, string? Reference, decimal? Planned, string? Existing, decimal? ExistingAmount, ShadowVerdict Verdict, string Note, string? Write = null);

/// <summary>
/// The shadow report (<c>loopfulfil shadow report</c>): per return seen in shadow mode, the documents the accounting
/// model plans (docs/accounting.md) against the return sales and credit notes the existing process made on the same
/// order, and the raw writes the pipeline planned.
/// </summary>
public sealed record ShadowReport(DateTimeOffset At, IReadOnlyList<ShadowReportRow> Rows, IReadOnlyList<PlannedWrite> Writes)
{
    public static readonly IReadOnlyList<string> CsvHeader = ["return", "order", "document", "reference", "planned", "existing", "existing_amount", "verdict", "note", "write"];

    public int Count(ShadowVerdict verdict) => Rows.Count(r => r.Verdict == verdict);

    public string RenderCsv()
    {
        var sb = new StringBuilder().AppendJoin(',', CsvHeader).Append('\n');
        foreach (var r in Rows)
        {
            sb.AppendJoin(',', new[] { r.ReturnId, r.OrderName ?? "", r.Document, r.Reference ?? "", Money(r.Planned), r.Existing ?? "", Money(r.ExistingAmount), r.Verdict.ToString(), r.Note, r.Write ?? "" }.Select(Csv)).Append('\n');
        }

        return sb.ToString();
    }

    public string RenderHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>LoopFulfil shadow report</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}")
            .Append(".Differs,.OnlyInFulfil{background:#fdd}.MissingInFulfil{background:#ffd}.Matched{background:#dfd}td.n{text-align:right}</style></head><body>")
            .Append(CultureInfo.InvariantCulture, $"<h1>Shadow report</h1><p>{H(At.ToString("u", CultureInfo.InvariantCulture))}: {Rows.Select(r => r.ReturnId).Distinct().Count()} returns, {Writes.Count} writes planned and not sent; ")
            .Append(CultureInfo.InvariantCulture, $"{Count(ShadowVerdict.Matched)} matched, {Count(ShadowVerdict.Differs)} differ, {Count(ShadowVerdict.MissingInFulfil)} missing in Fulfil, {Count(ShadowVerdict.OnlyInFulfil)} only in Fulfil.</p>")
            .Append("<table><tr><th>Return</th><th>Order</th><th>Document</th><th>Reference</th><th>Planned</th><th>In Fulfil</th><th>Amount</th><th>Verdict</th><th>Note</th><th>Write</th></tr>");
        foreach (var r in Rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr class=\"{r.Verdict}\"><td>{H(r.ReturnId)}</td><td>{H(r.OrderName ?? "")}</td><td>{H(r.Document)}</td><td>{H(r.Reference ?? "")}</td><td class=\"n\">{Money(r.Planned)}</td><td>{H(r.Existing ?? "")}</td><td class=\"n\">{Money(r.ExistingAmount)}</td><td>{r.Verdict}</td><td>{H(r.Note)}</td><td>{H(r.Write ?? "")}</td></tr>");
        }

        sb.Append("</table><h2>Writes planned</h2><table><tr><th>Return</th><th>Target</th><th>Model</th><th>Method</th><th>Reference</th><th>Amount</th></tr>");
        foreach (var w in Writes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(w.ReturnId ?? "")}</td><td>{H(w.Target)}</td><td>{H(w.Model)}</td><td>{H(w.Method)}</td><td>{H(w.Reference ?? "")}</td><td class=\"n\">{Money(w.Amount)}</td></tr>");
        }

        return sb.Append("</table></body></html>").ToString();
    }

    public static string Money(decimal? amount) => amount?.ToString("0.00", CultureInfo.InvariantCulture) ?? "";

    private static string H(string text) => WebUtility.HtmlEncode(text);

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
