using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// What the hosts serve on <c>GET /api/ops/reconciliation/latest</c> (JSON), <c>latest.csv</c> and <c>latest.html</c>
/// (admin only), and what <c>loopfulfil reconcile|audit</c> print: stored reports and their renderings.
/// </summary>
public sealed class ReconciliationReports
{
    private readonly ReconciliationReportStore _store;
    private readonly IOptionsMonitor<ReconciliationOptions> _options;

    public ReconciliationReports(ReconciliationReportStore store, IOptionsMonitor<ReconciliationOptions> options)
    {
        _store = store;
        _options = options;
    }

    /// <summary>The newest report (of <paramref name="mode"/>, or of any mode); null before the first run.</summary>
    public async Task<ReconciliationReport?> GetLatestAsync(ReconciliationMode? mode, CancellationToken cancellationToken)
    {
        var runId = await _store.GetLatestRunIdAsync(mode, cancellationToken).ConfigureAwait(false);
        return runId is null ? null : await _store.GetAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest report of any mode; null before the first run.</summary>
    public Task<ReconciliationReport?> GetLatestAsync(CancellationToken cancellationToken) => GetLatestAsync(null, cancellationToken);

    /// <summary>One run's report, or null when unknown.</summary>
    public Task<ReconciliationReport?> GetAsync(string runId, CancellationToken cancellationToken) => _store.GetAsync(runId, cancellationToken);

    /// <summary>Self-contained HTML page (inline CSS and SVG, no scripts); serve as <c>text/html; charset=utf-8</c>.</summary>
    public string RenderHtml(ReconciliationReport report) => ReconciliationHtml.Render(report, Math.Max(1, _options.CurrentValue.HistoryDays));

    /// <summary>CSV, one row per mismatch; serve as <c>text/csv; charset=utf-8</c>.</summary>
    public static string RenderCsv(ReconciliationReport report) => ReconciliationCsv.Render(report);

    /// <summary>The report as JSON (enums as names), as stored.</summary>
    /// <summary>The route's name segment: <c>latest.csv</c> → (<c>latest</c>, <c>csv</c>); without a known extension, JSON.</summary>
    public static (string RunId, string Format) SplitName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var format in (ReadOnlySpan<string>)["csv", "html", "json"])
        {
            if (name.EndsWith("." + format, StringComparison.OrdinalIgnoreCase))
            {
                return (name[..^(format.Length + 1)], format);
            }
        }

        return (name, "json");
    }

    public static string RenderJson(ReconciliationReport report) => System.Text.Json.JsonSerializer.Serialize(report, ReconciliationReportStore.Json);
}
