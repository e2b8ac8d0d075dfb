namespace LoopFulfil.Core.Errors;

/// <summary>
/// A failure worth retrying: 429, 5xx, timeouts, a store that is briefly unreachable. Queue triggers let it
/// escape so the message is redelivered (and dead-lettered after MaxDeliveryCount).
/// </summary>
public class TransientIntegrationException : Exception
{
    public TransientIntegrationException(string message, Exception? inner, TimeSpan? retryAfter)
        : base(message, inner) => RetryAfter = retryAfter;

    public TransientIntegrationException() : this("A transient failure occurred.") { }

    public TransientIntegrationException(string message) : this(message, null, null) { }

    public TransientIntegrationException(string message, Exception innerException) : this(message, innerException, null) { }

    /// <summary>What the remote side asked us to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>
/// A failure that retrying cannot fix: a business-rule rejection, bad credentials, an unknown SKU.
/// Handlers turn it into an exception record with an owning team and complete the message.
/// </summary>
public class PermanentIntegrationException : Exception
{
    public PermanentIntegrationException() : this("A permanent failure occurred.") { }

    public PermanentIntegrationException(string message) : base(message) { }

    public PermanentIntegrationException(string message, Exception innerException) : base(message, innerException) { }
}
