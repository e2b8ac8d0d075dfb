using System.Buffers;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Reads a webhook request body up to the accept limit, never more than one byte past it.</summary>
internal static class WebhookBodyReader
{
    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> + 1 bytes. <c>Oversize</c> is true when the body is longer than the
    /// limit; the buffer then holds the bytes read so far (the oversize path hashes on from there). With a declared
    /// length the body is read straight into an array of that size; otherwise through a pooled buffer that is copied
    /// once at the end.
    /// </summary>
    public static async ValueTask<(byte[] Buffer, int Length, bool Oversize)> ReadAsync(Stream stream, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        var probe = ArrayPool<byte>.Shared.Rent(1);
        try
        {
            if (contentLength is long declared and >= 0 and <= int.MaxValue && declared <= maxBytes)
            {
                var exact = new byte[declared];
                var read = await stream.ReadAtLeastAsync(exact, exact.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < exact.Length)
                {
                    // The sender stopped early: what arrived is the body (its signature will tell).
                    return (exact, read, false);
                }

                var extra = await stream.ReadAsync(probe.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
                if (extra == 0)
                {
                    return (exact, read, false);
                }

                // More bytes than declared (a host that does not enforce framing): keep reading under the limit.
                return await ReadUnknownLengthAsync(stream, exact, probe[0], maxBytes, cancellationToken).ConfigureAwait(false);
            }

            return await ReadUnknownLengthAsync(stream, [], null, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(probe);
        }
    }

    private static async ValueTask<(byte[] Buffer, int Length, bool Oversize)> ReadUnknownLengthAsync(Stream stream, byte[] prefix, byte? nextByte, int maxBytes, CancellationToken cancellationToken)
    {
        var limit = maxBytes + 1;
        var initial = Math.Max(prefix.Length + 1, Math.Min(limit, 16 * 1024));
        var rented = ArrayPool<byte>.Shared.Rent(initial);
        try
        {
            prefix.CopyTo(rented, 0);
            var total = prefix.Length;
            if (nextByte is byte b)
            {
                rented[total++] = b;
            }

            while (total <= maxBytes)
            {
                var capacity = Math.Min(rented.Length, limit);
                if (total == capacity)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, rented.Length * 2));
                    rented.AsSpan(0, total).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                    continue;
                }

                var n = await stream.ReadAsync(rented.AsMemory(total, capacity - total), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return (rented.AsSpan(0, total).ToArray(), total, false);
                }

                total += n;
            }

            return (rented.AsSpan(0, total).ToArray(), total, true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
