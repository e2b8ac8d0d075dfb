using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// One owner at a time for a table row (a ledger step, a posting): the row carries <c>LeaseOwner</c> and
/// <c>LeaseUntil</c>, and every claim, takeover, completion and release is a write checked against the ETag the
/// claimer read. Whoever loses an ETag race re-reads; whoever finds a live lease of another owner backs off with
/// <see cref="StepLeaseHeldException"/> (transient, so the message is retried later). See ADR 0006.
/// </summary>
internal static class RowLease
{
    public const string OwnerProperty = "LeaseOwner";
    public const string UntilProperty = "LeaseUntil";

    /// <summary>How many ETag races a claim tolerates before it gives up as transient.</summary>
    public const int MaxClaimAttempts = 5;

    /// <summary>A new owner id: one per attempt at the work, so a redelivery of the same message is another owner.</summary>
    public static string NewOwner() => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The expiry of a lease held by someone other than <paramref name="owner"/> that is still live at <paramref name="now"/>.</summary>
    public static DateTimeOffset? LiveUntil(TableEntity row, DateTimeOffset now, string? owner = null) =>
        row.GetDateTimeOffset(UntilProperty) is { } until && until > now && !string.Equals(row.GetString(OwnerProperty), owner, StringComparison.Ordinal)
            ? until
            : null;

    /// <summary>
    /// Claims (or takes over an expired) lease on <paramref name="current"/>, ETag-checked. Returns the written patch
    /// carrying its new ETag, or null when another writer changed the row first (re-read and decide again).
    /// </summary>
    /// <param name="also">Other properties written with the claim (e.g. an attempt count).</param>
    /// <exception cref="StepLeaseHeldException">Another owner's lease is live.</exception>
    public static async Task<TableEntity?> TryClaimAsync(ITableStore store, string table, TableEntity current, string owner, DateTimeOffset now, TimeSpan duration, string what, Action<TableEntity>? also, CancellationToken cancellationToken)
    {
        if (LiveUntil(current, now, owner) is { } until)
        {
            throw new StepLeaseHeldException(what, until, until - now);
        }

        var patch = new TableEntity(current.PartitionKey, current.RowKey)
        {
            [OwnerProperty] = owner,
            [UntilProperty] = now + duration,
            ETag = current.ETag,
        };
        also?.Invoke(patch);
        return await store.UpdateAsync(table, patch, UpsertMode.Merge, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated ? patch : null;
    }

    /// <summary>Adds a fresh lease to a row about to be inserted.</summary>
    public static TableEntity WithLease(TableEntity row, string owner, DateTimeOffset now, TimeSpan duration)
    {
        row[OwnerProperty] = owner;
        row[UntilProperty] = now + duration;
        return row;
    }

    /// <summary>
    /// The holder's last write: <paramref name="fields"/> plus the lease ended at <paramref name="now"/>, checked against
    /// the ETag of the holder's claim. False when the lease was lost (it expired and another owner took the row over):
    /// the holder must then record nothing.
    /// </summary>
    public static async Task<bool> CompleteAsync(ITableStore store, string table, TableEntity held, DateTimeOffset now, Action<TableEntity> fields, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(held.PartitionKey, held.RowKey) { [UntilProperty] = now, ETag = held.ETag };
        fields(patch);
        return await store.UpdateAsync(table, patch, UpsertMode.Merge, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated;
    }

    /// <summary>
    /// Ends the lease after the holder's work failed, so the retry need not wait for the expiry. Best effort: when the
    /// write fails the lease simply expires (as after a crash).
    /// </summary>
    public static async Task ReleaseAsync(ITableStore store, string table, TableEntity held, DateTimeOffset now)
    {
        var patch = new TableEntity(held.PartitionKey, held.RowKey) { [UntilProperty] = now, ETag = held.ETag };
        try
        {
            await store.UpdateAsync(table, patch, UpsertMode.Merge, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransientIntegrationException or PermanentIntegrationException or HttpRequestException or TimeoutException or OperationCanceledException)
        {
            // The original failure is what the caller reports; this lease ends at its expiry instead.
        }
    }
}

/// <summary>
/// Another worker holds a live lease on the step (or posting): this attempt backs off. Transient, so the host retries
/// the message later; <see cref="TransientIntegrationException.RetryAfter"/> is the time left on the lease.
/// </summary>
public sealed class StepLeaseHeldException : TransientIntegrationException
{
    public StepLeaseHeldException(string what, DateTimeOffset leaseUntil, TimeSpan retryAfter)
        : base($"{what} is being worked on by another worker until {leaseUntil:o}; backing off.", null, retryAfter) => LeaseUntil = leaseUntil;

    public StepLeaseHeldException() : this("A step is being worked on by another worker.") { }

    public StepLeaseHeldException(string message) : base(message) { }

    public StepLeaseHeldException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>When the other worker's lease expires (and can be taken over).</summary>
    public DateTimeOffset? LeaseUntil { get; }
}
