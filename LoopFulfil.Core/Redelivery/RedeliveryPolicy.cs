using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Redelivery;

/// <summary>What to do with a message whose handler failed.</summary>
/// <param name="Park">True: stop retrying and record it for its owner. False: try again after <paramref name="Delay"/>.</param>
/// <param name="Delay">How long to wait before the next attempt (zero when parked).</param>
public readonly record struct RedeliveryDecision(bool Park, TimeSpan Delay)
{
    public static RedeliveryDecision Parked => new(true, TimeSpan.Zero);

    public static RedeliveryDecision RetryAfter(TimeSpan delay) => new(false, delay);
}

/// <summary>
/// The backoff rule: "retry later with delay D, or park". Pure, so both hosts share it and tests pin it down.
/// </summary>
public static class RedeliveryPolicy
{
    /// <summary>True for failures worth another attempt later: <see cref="TransientIntegrationException"/> anywhere in the chain.</summary>
    public static bool IsTransient(Exception failure) => TransientOf(failure) is not null;

    /// <summary>
    /// After failed attempt number <paramref name="attempt"/> (1 = the first delivery): park once
    /// <see cref="RedeliveryOptions.MaxAttempts"/> attempts have failed, otherwise wait what the error asked for
    /// (Retry-After, or an open circuit's remaining break time), else <c>BaseDelay × 2^(attempt−1)</c>; capped at
    /// <see cref="RedeliveryOptions.MaxDelay"/>.
    /// </summary>
    public static RedeliveryDecision Decide(int attempt, Exception failure, RedeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(options);
        if (attempt >= options.MaxAttempts)
        {
            return RedeliveryDecision.Parked;
        }

        var wanted = TransientOf(failure)?.RetryAfter is { } asked && asked > TimeSpan.Zero
            ? asked
            : Exponential(attempt, options.BaseDelay, options.MaxDelay);
        return RedeliveryDecision.RetryAfter(wanted < options.MaxDelay ? wanted : options.MaxDelay);
    }

    private static TimeSpan Exponential(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        // 2^30 × any positive base is far past every allowed maximum; the clamp keeps the multiplication finite.
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var ticks = baseDelay.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    private static TransientIntegrationException? TransientOf(Exception failure)
    {
        // Bounded walk: an exception chain is short, but a cycle must not hang a handler.
        var current = failure;
        for (var depth = 0; current is not null && depth < 16; depth++)
        {
            if (current is TransientIntegrationException transient)
            {
                return transient;
            }

            if (current is PermanentIntegrationException)
            {
                return null;
            }

            current = current is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : current.InnerException;
        }

        return null;
    }
}
