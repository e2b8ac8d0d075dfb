using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Storage;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Benchmarks;

/// <summary>
/// Cost of accepting one webhook (bounded read + signature check + envelope + message build) against the floor:
/// HMAC-SHA256 over the same bytes, which no correct implementation can skip.
/// Run: dotnet run -c Release --project LoopFulfil.Benchmarks -- --filter '*Ingress*' --job short
/// </summary>
[MemoryDiagnoser]
public class IngressBenchmarks : IDisposable
{
    private const string Secret = "benchmark-webhook-secret";
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
        _key = Encoding.UTF8.GetBytes(Secret);
        _body = ReturnPayload(BodyBytes);
        _signature = Convert.ToBase64String(HMACSHA256.HashData(_key, _body));
        _stream = new MemoryStream(_body, writable: false);
        var exceptions = new ExceptionService(new NoTableStore(), new NoBlobStore(), new NoSender(), new Monitor<ExceptionOptions>(new()), TimeProvider.System, NullLogger<ExceptionService>.Instance);
        _ingress = new WebhookIngress(new Monitor<WebhookOptions>(new() { Secret = Secret }), exceptions, NullLogger<WebhookIngress>.Instance);
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

    /// <summary>A return.updated payload shaped like Loop's, grown with line items to about <paramref name="size"/> bytes.</summary>
    private static byte[] ReturnPayload(int size)
    {
        var sb = new StringBuilder();
        sb.Append("""{"topic":"return","trigger":"return.updated","shop_id":9876,"id":6042537,"state":"open","created_at":"2026-10-29T16:07:31+00:00","edited_at":"2026-10-29T17:01:02+00:00","total":"120.13","order_id":26442641,"order_name":"#90507","provider_order_id":"2773679177825","currency":"USD","return_product_total":"120.00","return_discount_total":"0.00","return_tax_total":"0.13","return_total":"120.13","refund":"120.13","refunds":[{"gateway":"manual","amount":"120.13"}],"exchanges":[],"line_items":[""");
        var i = 0;
        const string tail = """],"carrier":"USPS","tracking_number":"9461","label_status":"new","label_updated_at":"2026-10-29T16:07:35+00:00"}""";
        while (sb.Length + tail.Length < size - 420)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $$"""{"line_item_id":"{{59160778 + i}}","provider_line_item_id":"5896375795809","product_id":"4769333706849","variant_id":"32725922578529","sku":"AU1022E{{i:00000}}","barcode":"","title":"Gold Bamboo Huggie Earrings - 14K \/ Yellow","price":"120.00","discount":"0.00","tax":"0.13","refund":"120.13","returned_at":"2026-10-29 16:07:31","return_reason":"Item was too big","outcome":"default"}""");
            i++;
        }

        sb.Append(tail);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private sealed class Monitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    private sealed class NoSender : IMessageSender
    {
        public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) => throw new InvalidOperationException("not on the routed path");
    }

    private sealed class NoBlobStore : IBlobStore
    {
        private static InvalidOperationException Used() => new("A routed webhook must not touch storage.");

        public Task UploadAsync(string container, string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken) => throw Used();

        public Task<byte[]?> DownloadAsync(string container, string name, CancellationToken cancellationToken) => throw Used();

        public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken) => throw Used();

        public IAsyncEnumerable<StoredBlob> ListAsync(string container, string? prefix, CancellationToken cancellationToken) => throw Used();
    }

    private sealed class NoTableStore : ITableStore
    {
        private static InvalidOperationException Used() => new("A routed webhook must not touch storage.");

        public Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken) => throw Used();

        public Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => throw Used();

        public Task<InsertOutcome> InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken) => throw Used();

        public Task UpsertAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Used();

        public Task<UpdateOutcome> UpdateAsync(string table, TableEntity entity, UpsertMode mode, CancellationToken cancellationToken) => throw Used();

        public Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) => throw Used();

        public IAsyncEnumerable<TableEntity> QueryAsync(string table, string? filter, CancellationToken cancellationToken) => throw Used();

        public Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken) => throw Used();
    }
}
