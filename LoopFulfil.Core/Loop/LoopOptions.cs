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

    /// <summary>Client-side ceiling per API key across the process. Loop allows 300 a minute, then answers 429.</summary>
    public int RequestsPerMinute { get; set; } = 300;

    /// <summary>
    /// The rolling window <see cref="RequestsPerMinute"/> applies to. One minute in production; tests shorten it to
    /// exercise the limiter quickly.
    /// </summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

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
