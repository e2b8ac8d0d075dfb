namespace LoopFulfil.Core.Loop;

/// <summary>Settings for the Loop Returns API client, bound from section <c>Loop</c> (environment <c>Loop__ApiKey</c>, …).</summary>
public sealed class LoopOptions
{
    public const string Section = "Loop";

    /// <summary>API root without the version; requests go to <c>{BaseUrl}{ApiVersion}/…</c>.</summary>
    public string BaseUrl { get; set; } = "https://api.loopreturns.com/api/";

    /// <summary>Date-based API version in the path. Never <c>latest</c> (it moves) nor <c>v1</c> (legacy alias).</summary>
    public string ApiVersion { get; set; } = "2026-10";

    /// <summary>Merchant API key sent as <c>X-Authorization</c>. Secret: never logged.</summary>
    public string ApiKey { get; set; } = string.Empty;

    /// <summary>
    /// Client-side ceiling per API key: across the process, or across every instance with <see cref="SharedRateLimit"/>.
    /// Loop allows 300 a minute, then answers 429.
    /// </summary>
    public int RequestsPerMinute { get; set; } = 300;

    /// <summary>
    /// The rolling window <see cref="RequestsPerMinute"/> applies to. One minute in production; tests shorten it to
    /// exercise the limiter quickly.
    /// </summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Added to <see cref="RateLimitWindow"/> before a used permit is handed out again. The limiter already counts each
    /// request from its response (so delivery delay cannot bunch arrivals); the padding covers what that cannot see:
    /// how Loop itself buckets time [I], requests abandoned by a timeout before Loop logged them, and, with
    /// <see cref="SharedRateLimit"/>, clock skew between instances and the delivery of a block's last requests.
    /// 1 s of a 60 s window costs about 1.6 % of throughput. Scale it with the window in time-compressed runs.
    /// </summary>
    public TimeSpan RateLimitWindowPadding { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Coordinate the limit across processes through Table Storage (one entity per API key), for scale-out hosts where
    /// several instances use the same key. Off: each process assumes it owns the whole limit.
    /// </summary>
    public bool SharedRateLimit { get; set; }

    /// <summary>Table holding the shared limiter's entity per API key hash (<see cref="SharedRateLimit"/>).</summary>
    public string SharedRateLimitTable { get; set; } = "LoopRateLimit";

    /// <summary>
    /// Most permits one instance claims from the shared table at once; the claim adapts to recent demand up to this.
    /// Larger blocks mean fewer storage writes but more permits parked on one instance.
    /// </summary>
    public int SharedRateLimitMaxBlock { get; set; } = 10;

    /// <summary>
    /// How long a claimed block may be dispensed; permits left over are wasted (they stay counted). Every instance
    /// counts a block for <c>window + hold + padding</c> from its claim, so this costs throughput like the padding.
    /// </summary>
    public TimeSpan SharedRateLimitBlockHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Instances that may call Loop with this key at once (the host's maximum scale-out). When the table cannot be
    /// reached, each instance falls back to <c>1/ExpectedInstances</c> of what the last known table state leaves free.
    /// </summary>
    public int SharedRateLimitExpectedInstances { get; set; } = 10;

    /// <summary>Per-attempt HTTP timeout; a timeout is a transient failure.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Page size for the Detailed Returns List (Loop's maximum is 750).</summary>
    public int ReturnsPageSize { get; set; } = 250;

    /// <summary>The versioned API root, always ending in a slash.</summary>
    public Uri VersionedBaseAddress()
    {
        var root = BaseUrl.EndsWith('/') ? BaseUrl : BaseUrl + "/";
        return new Uri(new Uri(root, UriKind.Absolute), ApiVersion.Trim('/') + "/");
    }
}
