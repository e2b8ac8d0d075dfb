using System.Globalization;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Messaging;

/// <summary>
/// Claim-check for message bodies too large for the transport: the body is stored in Blob storage and the message
/// carries only a reference to it, in the <see cref="ReferenceProperty"/> application property. Both hosts use it: the
/// single-machine queue (a queue envelope holds 48 KiB) and the Functions host's Service Bus sender (Standard refuses
/// messages over 256 KB). Handlers never see the difference (<see cref="ResolveAsync"/> runs before them).
/// </summary>
/// <remarks>
/// One blob per body in container <see cref="Container"/>, named by the claim id, uploaded before the message is sent.
/// Blobs are not deleted when the message completes (a redelivery after a lost delete still needs them);
/// <see cref="PruneAsync"/> removes them after <see cref="Retention"/>, longer than any message pointing at one can
/// live (<see cref="MessageLifetimes"/>). Both hosts prune through the privacy retention job.
/// </remarks>
public sealed class ClaimCheck
{
    /// <summary>Blob container holding stored bodies.</summary>
    public const string Container = "claimcheck";

    /// <summary>Message property naming the stored body: <c>{claim id}:{length}:{sha256 hex}</c>.</summary>
    public const string ReferenceProperty = "LoopFulfil-ClaimCheck";

    /// <summary>How long stored bodies are kept: <see cref="MessageLifetimes.ClaimCheckBodyLifetime"/>, beyond every message's time-to-live.</summary>
    public static readonly TimeSpan Retention = MessageLifetimes.ClaimCheckBodyLifetime;

    // Blob metadata, from the TimeProvider (not the service's Last-Modified) so retention follows the app's clock.
    private const string StoredAtMetadata = "storedat";

    private readonly IBlobStore _blobs;
    private readonly TimeProvider _time;

    public ClaimCheck(IBlobStore blobs, TimeProvider time)
    {
        _blobs = blobs;
        _time = time;
    }

    /// <summary>Stores <paramref name="body"/> under <paramref name="claimId"/>; returns the reference to put on the message.</summary>
    public async Task<string> StoreAsync(string claimId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimId);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [StoredAtMetadata] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        };
        await _blobs.UploadAsync(Container, claimId, body, metadata, cancellationToken).ConfigureAwait(false);
        return Reference(claimId, body.Span);
    }

    /// <summary>The reference <see cref="StoreAsync"/> returns for this body (computed without storing).</summary>
    public static string Reference(string claimId, ReadOnlySpan<byte> body) =>
        string.Create(CultureInfo.InvariantCulture, $"{claimId}:{body.Length}:{BodyStore.Sha256Hex(body)}");

    /// <summary>
    /// Returns <paramref name="message"/> with its stored body in place when it carries a claim reference (and without
    /// the reference property), otherwise the message itself.
    /// </summary>
    /// <exception cref="PermanentIntegrationException">The stored body is missing or does not match its reference.</exception>
    public async Task<InboundMessage> ResolveAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.Properties.TryGetValue(ReferenceProperty, out var reference))
        {
            return message;
        }

        var parts = reference.Split(':');
        if (parts.Length != 3 || parts[0].Length == 0 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new PermanentIntegrationException($"Message {message.MessageId} has a malformed claim-check reference.");
        }

        var body = await _blobs.DownloadAsync(Container, parts[0], cancellationToken).ConfigureAwait(false);
        if (body is null || body.Length != length || !string.Equals(BodyStore.Sha256Hex(body), parts[2], StringComparison.Ordinal))
        {
            throw new PermanentIntegrationException(string.Create(CultureInfo.InvariantCulture,
                $"Message {message.MessageId}: the claim-checked body {parts[0]} is missing or does not match ({body?.Length.ToString(CultureInfo.InvariantCulture) ?? "no"} bytes stored, expected {length})."));
        }

        var properties = message.Properties.Where(p => p.Key != ReferenceProperty).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return message with { Body = body, Properties = properties };
    }

    /// <summary>Deletes stored bodies older than <see cref="Retention"/>; returns how many went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - Retention;
        var expired = new List<string>();
        await foreach (var blob in _blobs.ListAsync(Container, null, cancellationToken).ConfigureAwait(false))
        {
            // A blob without a readable stamp was not written by StoreAsync's contract: treat it as expired.
            var stamp = blob.Metadata.FirstOrDefault(m => string.Equals(m.Key, StoredAtMetadata, StringComparison.OrdinalIgnoreCase)).Value;
            if (!DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var storedAt) || storedAt < cutoff)
            {
                expired.Add(blob.Name);
            }
        }

        var deleted = 0;
        foreach (var name in expired)
        {
            if (await _blobs.DeleteAsync(Container, name, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }
}
