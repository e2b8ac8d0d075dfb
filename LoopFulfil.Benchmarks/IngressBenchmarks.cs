using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Webhooks;

namespace LoopFulfil.Benchmarks;

/// <summary>
/// Cost of accepting one webhook (bounded read + signature check + envelope + message build) against the floor:
/// HMAC-SHA256 over the same bytes, which no correct implementation can skip.
/// Run: dotnet run -c Release --project LoopFulfil.Benchmarks -- --filter '*Ingress*' --job short
/// </summary>
[MemoryDiagnoser]
public class IngressBenchmarks : IDisposable
{
    private byte[] _key = [];
    private byte[] _body = [];
    private string _signature = "";
    private MemoryStream _stream = new();
    private WebhookIngress _ingress = null!;
    private readonly byte[] _digest = new byte[32];

    [Params(2 * 1024, 32 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _key = Encoding.UTF8.GetBytes(WebhookTestKit.Secret);
        _body = ReturnPayload(BodyBytes);
        Console.WriteLine($"// Payload: {_body.Length} bytes, {LoopJson.Deserialize<LoopReturn>(_body).LineItems.Count} lines");
        _signature = WebhookTestKit.Sign(_body);
        _stream = new MemoryStream(_body, writable: false);
        // The tests' ingress wiring over stores that throw if touched: a routed webhook does no storage I/O.
        _ingress = IngressHarness.Create(new NoStorageAllowed(), blobs: new NoBlobsAllowed());
        if (Ingress() is not { Length: 64 })
        {
            throw new InvalidOperationException("The benchmark body must be accepted and routed.");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _ingress?.Dispose();
        _stream.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public byte HmacSha256Floor()
    {
        HMACSHA256.HashData(_key, _body, _digest);
        return _digest[0];
    }

    [Benchmark]
    public string? Ingress()
    {
        _stream.Position = 0;
        var pending = _ingress.HandleAsync(new WebhookRequest(_stream, _signature, _body.Length), CancellationToken.None);
        // The body stream is in memory, so this completes synchronously: measure the work, not the awaiting.
        if (!pending.IsCompleted)
        {
            throw new InvalidOperationException("An in-memory body should be read synchronously.");
        }

        return pending.Result.Message?.MessageId;
    }

    /// <summary>Component: the forward-only envelope pass alone (explains the ratio).</summary>
    [Benchmark]
    public string? EnvelopeOnly() => WebhookEnvelope.Parse(_body).ReturnId;

    /// <summary>Component: SHA-256 of the body for the dedupe key alone (explains the ratio).</summary>
    [Benchmark]
    public byte BodySha256()
    {
        SHA256.HashData(_body, _digest);
        return _digest[0];
    }

    /// <summary>
    /// A <c>return.updated</c> body from the tests' builder (some ids as numbers, as Loop sends them), grown with line
    /// items to at least <paramref name="size"/> bytes.
    /// </summary>
    private static byte[] ReturnPayload(int size) => LoopReturnBuilder.AReturn("6042537")
        .WithTrigger("return.updated").ForOrder("#90507").EditedAtMinutes(54).WithNumericIds("id", "shop_id", "order_id")
        .GrownTo(size, (b, i) => b.WithLine(string.Create(CultureInfo.InvariantCulture, $"AU1022E{i:00000}"), 120.00m, tax: 0.13m, reason: "Item was too big"))
        .Webhook("return.updated");
}
