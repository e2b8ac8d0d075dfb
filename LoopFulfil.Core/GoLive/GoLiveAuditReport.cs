using System.Globalization;
using System.Net;
using System.Text;

namespace LoopFulfil.Core.GoLive;

public enum AuditVerdict
{
    Pass,

    /// <summary>Works, but something needs a decision or a setting before go-live.</summary>
    Warn,

    /// <summary>Go-live would post wrongly or fail: fix first.</summary>
    Fail,
}

/// <summary>One readiness check: what was checked, the verdict, who fixes it and how.</summary>
public sealed record AuditFinding(string Area, string Check, AuditVerdict Verdict, string Owner, string Detail, string Fix);

/// <summary>Recent Loop returns of one outcome shape, with how the integration handles that shape today.</summary>
/// <param name="Support">supported, needs a setting, or unsupported.</param>
public sealed record WorkflowShape(string Shape, string Support, int Returns, decimal Money, string Note);

/// <summary>The go-live readiness report: every check with its verdict and owner, and the recent workflow by shape.</summary>
public sealed record GoLiveAuditReport(DateTimeOffset At, int LookbackDays, IReadOnlyList<AuditFinding> Findings, IReadOnlyList<WorkflowShape> Shapes)
{
    /// <summary>True when no check failed (warnings are decisions, not blockers).</summary>
    public bool Ready => Findings.All(f => f.Verdict != AuditVerdict.Fail);

    public static readonly IReadOnlyList<string> CsvHeader = ["area", "check", "verdict", "owner", "detail", "fix"];

    public string RenderCsv()
    {
        var sb = new StringBuilder().AppendJoin(',', CsvHeader).Append('\n');
        foreach (var f in Findings)
        {
            sb.AppendJoin(',', new[] { f.Area, f.Check, f.Verdict.ToString(), f.Owner, f.Detail, f.Fix }.Select(Csv)).Append('\n');
        }

        return sb.ToString();
    }

    public string RenderHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>LoopFulfil go-live audit</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}")
            .Append(".Fail{background:#fdd}.Warn{background:#ffd}.Pass{background:#dfd}</style></head><body>")
            .Append(CultureInfo.InvariantCulture, $"<h1>Go-live audit: {(Ready ? "ready" : "not ready")}</h1><p>{H(At.ToString("u", CultureInfo.InvariantCulture))}, returns of the last {LookbackDays} days.</p>")
            .Append("<table><tr><th>Area</th><th>Check</th><th>Verdict</th><th>Owner</th><th>Detail</th><th>How to fix</th></tr>");
        foreach (var f in Findings)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr class=\"{f.Verdict}\"><td>{H(f.Area)}</td><td>{H(f.Check)}</td><td>{f.Verdict}</td><td>{H(f.Owner)}</td><td>{H(f.Detail)}</td><td>{H(f.Fix)}</td></tr>");
        }

        sb.Append("</table><h2>Recent returns by shape</h2><table><tr><th>Shape</th><th>Support</th><th>Returns</th><th>Money</th><th>Note</th></tr>");
        foreach (var s in Shapes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(s.Shape)}</td><td>{H(s.Support)}</td><td>{s.Returns}</td><td>{s.Money:0.00}</td><td>{H(s.Note)}</td></tr>");
        }

        return sb.Append("</table></body></html>").ToString();
    }

    private static string H(string text) => WebUtility.HtmlEncode(text);

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
