using System.Buffers;
using System.Security.Cryptography;

namespace LoopFulfil.Core.Webhooks;

/// <summary>
/// A body over the webhook limit, read to its end without being kept: its HMACs (to check the signature), its
/// SHA-256 (to recognise Loop's retries of it), its length and its first <see cref="PrefixBytes"/> bytes (to read
/// the topic, trigger and return id that ops need).
/// </summary>
internal sealed class OversizeBody
{
    /// <summary>Loop puts topic, trigger and id first; 64 KiB holds them with room to spare.</summary>
    public const int PrefixBytes = 64 * 1024;

    private readonly byte[] _primaryMac;
    private readonly byte[]? _secondaryMac;

    private OversizeBody(byte[] prefix, long length, string sha256Hex, byte[] primaryMac, byte[]? secondaryMac)
    {
        Prefix = prefix;
        Length = length;
        Sha256Hex = sha256Hex;
        _primaryMac = primaryMac;
        _secondaryMac = secondaryMac;
    }

    public byte[] Prefix { get; }

    public long Length { get; }

    public string Sha256Hex { get; }

    /// <summary>
    /// Hashes <paramref name="alreadyRead"/> and the rest of <paramref name="stream"/>. Null when the body goes on
    /// past <paramref name="maxBytes"/>: it is then refused without being read further.
    /// </summary>
    public static async Task<OversizeBody?> ReadAsync(Stream stream, ReadOnlyMemory<byte> alreadyRead, WebhookIngress.Settings settings, long maxBytes, CancellationToken cancellationToken)
    {
        using var primary = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, settings.PrimaryKey);
        using var secondary = settings.SecondaryKey is { } key ? IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key) : null;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var prefix = new byte[PrefixBytes];
        var prefixLength = 0;
        long total = 0;

        void Append(ReadOnlySpan<byte> chunk)
        {
            primary.AppendData(chunk);
            secondary?.AppendData(chunk);
            sha.AppendData(chunk);
            var take = Math.Min(chunk.Length, PrefixBytes - prefixLength);
            chunk[..take].CopyTo(prefix.AsSpan(prefixLength));
            prefixLength += take;
            total += chunk.Length;
        }

        Append(alreadyRead.Span);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (total <= maxBytes)
            {
                var n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return new OversizeBody(
                        prefix[..prefixLength],
                        total,
                        Convert.ToHexStringLower(sha.GetHashAndReset()),
                        primary.GetHashAndReset(),
                        secondary?.GetHashAndReset());
                }

                Append(buffer.AsSpan(0, n));
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether <paramref name="presented"/> (the decoded signature header) is the body's HMAC under either secret.</summary>
    public bool SignatureMatches(ReadOnlySpan<byte> presented) =>
        CryptographicOperations.FixedTimeEquals(_primaryMac, presented)
        || (_secondaryMac is not null && CryptographicOperations.FixedTimeEquals(_secondaryMac, presented));
}
