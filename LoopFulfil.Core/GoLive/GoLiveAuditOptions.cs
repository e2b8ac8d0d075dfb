namespace LoopFulfil.Core.GoLive;

/// <summary>The go-live audit (configuration section <c>Audit</c>).</summary>
public sealed class GoLiveAuditOptions
{
    public const string Section = "Audit";

    /// <summary>How many days of Loop returns the catalogue, double-path and workflow checks read.</summary>
    public int LookbackDays { get; set; } = 30;

    /// <summary>
    /// The public URL Loop must deliver webhooks to (the Functions app's <c>https://…/api/loop/webhooks</c>). Empty:
    /// the subscription check says it could not check the URL.
    /// </summary>
    public string WebhookUrl { get; set; } = "";
}
