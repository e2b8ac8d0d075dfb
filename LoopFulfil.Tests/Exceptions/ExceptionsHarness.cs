using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LoopFulfil.Tests.Exceptions;

/// <summary>An <see cref="ExceptionService"/> over the shared Azurite, in tables no other test uses.</summary>
internal sealed class ExceptionsHarness
{
    private ExceptionsHarness(AzureTableStore store, AzureBlobStore blobs, ExceptionOptions options)
    {
        Store = store;
        Blobs = blobs;
        Options = options;
        Service = new ExceptionService(store, blobs, Sender, new FixedOptionsMonitor<ExceptionOptions>(options), Clock, NullLogger<ExceptionService>.Instance);
    }

    public AzureTableStore Store { get; }

    /// <summary>Where raw events too large to be inline go.</summary>
    public AzureBlobStore Blobs { get; }

    public ExceptionOptions Options { get; }

    public RecordingMessageSender Sender { get; } = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));

    public ExceptionService Service { get; }

    public static async Task<ExceptionsHarness> CreateAsync(ExceptionOptions? options = null) =>
        new(await CreateIsolatedStoreAsync(), await AzuriteTestServer.CreateBlobStoreAsync(), options ?? new ExceptionOptions());

    /// <summary>A real table store on Azurite whose tables carry a prefix unique to the calling test.</summary>
    public static async Task<AzureTableStore> CreateIsolatedStoreAsync() =>
        new(StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync()), tablePrefix: AzuriteTestServer.UniqueTableName("x"));
}
