using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Messaging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>Builders and small host-side doubles for webhook and exception tests.</summary>
internal static class WebhookTestKit
{
    public const string Secret = "primary-secret-for-tests";
    public const string SecondarySecret = "next-secret-for-tests";

    public static byte[] Fixture(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Webhooks", name));

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>What Loop sends in X-Loop-Signature: Base64(HMAC-SHA256(body, secret as text)).</summary>
    public static string Sign(byte[] body, string secret = Secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>An options monitor over a fixed value (the tests do not reload configuration).</summary>
internal sealed class FixedOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

/// <summary>Host-side sender that records what it was given.</summary>
internal sealed class RecordingMessageSender : IMessageSender
{
    public ConcurrentQueue<OutboundMessage> Sent { get; } = new();

    public IReadOnlyList<OutboundMessage> On(string queue) => Sent.Where(m => m.Queue == queue).ToList();

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        Sent.Enqueue(message);
        return Task.CompletedTask;
    }
}

/// <summary>A sender whose queue is down.</summary>
internal sealed class UnavailableMessageSender : IMessageSender
{
    public int Calls { get; private set; }

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        Calls++;
        throw new IOException("queue unreachable");
    }
}

/// <summary>A sender whose queue takes the message and never answers (until the caller gives up).</summary>
internal sealed class NeverAnsweringSender : IMessageSender
{
    public int Calls { get; private set; }

    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        Calls++;
        return Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

/// <summary>
/// A request body that yields <paramref name="length"/> bytes of JSON-ish filler and counts how much was pulled,
/// so a test can prove an oversize body was refused without being read to the end.
/// </summary>
internal sealed class CountingStream(long length) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - BytesRead);
        buffer[..n].Fill((byte)' ');
        BytesRead += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A request body whose read fails as a broken-off request does (reset, or Kestrel's 408/400).</summary>
internal sealed class BreakingStream(IOException failure) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => 0; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw failure;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(failure);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException<int>(failure);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
