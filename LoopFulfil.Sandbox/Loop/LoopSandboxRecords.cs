namespace LoopFulfil.Sandbox.Loop;

/// <summary>Settings for a <see cref="LoopSandbox"/>.</summary>
public sealed record LoopSandboxOptions
{
    /// <summary>The key clients must send in <c>X-Authorization</c>.</summary>
    public string ApiKey { get; init; } = "sandbox-loop-api-key";

    /// <summary>Secret used to sign outgoing webhooks (<c>X-Loop-Signature</c>).</summary>
    public string WebhookSecret { get; init; } = "sandbox-loop-webhook-secret";

    /// <summary>Where webhooks go; when null, to matching active subscriptions made through <c>POST /webhooks</c>.</summary>
    public Uri? WebhookTargetUrl { get; init; }

    /// <summary>How long a processed return stays queued before it closes (and <c>return.closed</c> is sent).</summary>
    public TimeSpan ProcessingDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Seed a few demo returns for orders #1001–#1005.</summary>
    public bool SeedDemoData { get; init; }

    /// <summary>0 for a free port.</summary>
    public int Port { get; init; }

    /// <summary>
    /// When set, Loop's own limit: a request arriving when this many already arrived within the last
    /// <see cref="RateLimitWindow"/> gets 429 with Retry-After (and, as at Loop, still counts). Null: no limit.
    /// </summary>
    public int? RateLimit { get; init; }

    /// <summary>The rolling window <see cref="RateLimit"/> applies to.</summary>
    public TimeSpan RateLimitWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Clock for timestamps the sandbox writes (created_at, updated_at, note dates).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>One request as the sandbox saw it arrive, for assertions (rate limiting, retries, paging).</summary>
/// <param name="At">Arrival time since the sandbox started (monotonic clock).</param>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path without query.</param>
/// <param name="Query">Query string including the leading <c>?</c>, or empty.</param>
/// <param name="StatusCode">Status the sandbox answered (0 when the connection was aborted).</param>
public sealed record LoopSandboxRequest(TimeSpan At, string Method, string Path, string Query, int StatusCode);

/// <summary>A webhook the sandbox sent.</summary>
/// <param name="Topic">e.g. <c>return</c>.</param>
/// <param name="Trigger">e.g. <c>return.closed</c>.</param>
/// <param name="Url">Where it went.</param>
/// <param name="Body">Exact bytes sent (what was signed).</param>
/// <param name="Signature">The <c>X-Loop-Signature</c> header value.</param>
/// <param name="StatusCode">Receiver's status; 0 if it could not be reached.</param>
public sealed record LoopSandboxWebhookDelivery(string Topic, string Trigger, Uri Url, byte[] Body, string Signature, int StatusCode);

/// <summary>One successful Commerce Data write the sandbox accepted.</summary>
/// <param name="Sequence">1-based arrival order across all resources.</param>
/// <param name="Resource">One of <see cref="LoopSandbox.CommerceResources"/>.</param>
/// <param name="Key">The external id; for inventories <c>{variantId}/{locationId}</c> (Loop ids).</param>
/// <param name="LoopId">Loop's id of the record (for inventories, the key again).</param>
/// <param name="Created">True when the write created the record, false when it updated one.</param>
public sealed record LoopSandboxCommerceWrite(int Sequence, string Resource, string Key, string LoopId, bool Created);
