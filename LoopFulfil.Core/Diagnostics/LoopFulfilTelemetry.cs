using System.Diagnostics;

namespace LoopFulfil.Core.Diagnostics;

/// <summary>
/// What the integration exports as telemetry, whichever exporter a host adds (the Functions app: OpenTelemetry →
/// Azure Monitor): the meters, the activity sources and the log categories. One list, so the exporter wiring and the
/// test that checks the alert queries against it read the same names.
/// </summary>
public static class LoopFulfilTelemetry
{
    /// <summary>Activity source of the integration's own spans (one per queue message an entry point handles).</summary>
    public const string ActivitySourceName = "LoopFulfil";

    /// <summary>Log categories of the integration (every class in Core logs under its namespace).</summary>
    public const string LogCategoryPrefix = "LoopFulfil";

    /// <summary>.NET's own source for outgoing HTTP calls (Loop, Fulfil): their duration and status, query values redacted by .NET.</summary>
    public const string HttpClientActivitySource = "System.Net.Http";

    /// <summary>The meters to export: the integration's counters and histograms (<see cref="LoopFulfilMetrics"/>).</summary>
    public static IReadOnlyList<string> Meters { get; } = [LoopFulfilMetrics.MeterName];

    /// <summary>The activity sources to export.</summary>
    public static IReadOnlyList<string> ActivitySources { get; } = [ActivitySourceName, HttpClientActivitySource];

    /// <summary>Source for the integration's spans; an activity exists only while an exporter listens.</summary>
    public static ActivitySource Source { get; } = new(ActivitySourceName);
}
