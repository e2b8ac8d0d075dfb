using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Exceptions;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Storage;

/// <summary>
/// Bodies kept with table entities over Azurite: small ones inline, large ones (the webhook accepts 1 MiB; snapshots
/// and raw events may be larger) in Blob storage, replaced without leaving the old blob behind.
/// </summary>
public sealed class BodyStoreTests
{
    private const int OneMebibyte = 1024 * 1024;
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static byte[] Bytes(int length, int seed)
    {
        var body = new byte[length];
        new Random(seed).NextBytes(body);
        return body;
    }

    private static async Task<List<StoredBlob>> BodiesAsync(AzureBlobStore blobs)
    {
        var all = new List<StoredBlob>();
        await foreach (var blob in blobs.ListAsync(BodyStore.Container, null, Ct))
        {
            all.Add(blob);
        }

        return all;
    }

    [Theory]
    [InlineData(OneMebibyte)]
    [InlineData(4 * OneMebibyte)]
    public async Task Raw_event_of_one_and_four_mebibytes_is_stored_in_a_blob_and_read_back_byte_for_byte(int size)
    {
        var h = await ExceptionsHarness.CreateAsync();
        var body = Bytes(size, size);

        var raised = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "r-1", "large") { RawEvent = body }, Ct);
        var read = await h.Service.GetAsync(raised.Id, Ct);

        Assert.Equal(size, raised.RawEventLength);
        Assert.Equal(body, read!.RawEvent.ToArray());
        Assert.Equal(size, Assert.Single(await BodiesAsync(h.Blobs)).Length);
    }

    [Fact]
    public async Task Second_one_mebibyte_raw_event_for_the_same_record_replaces_the_first_and_its_blob()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var first = Bytes(OneMebibyte, 1);
        var second = Bytes(OneMebibyte, 2);

        var raised = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "r-2", "first") { RawEvent = first }, Ct);
        var firstBlob = Assert.Single(await BodiesAsync(h.Blobs)).Name;
        var again = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "r-2", "second") { RawEvent = second }, Ct);
        var read = await h.Service.GetAsync(raised.Id, Ct);

        Assert.Equal(raised.Id, again.Id);
        Assert.Equal(2, again.Attempts);
        Assert.Equal(second, read!.RawEvent.ToArray());
        var kept = Assert.Single(await BodiesAsync(h.Blobs));
        Assert.NotEqual(firstBlob, kept.Name);
        Assert.Null(await h.Blobs.DownloadAsync(BodyStore.Container, firstBlob, Ct));
    }

    [Fact]
    public async Task Small_raw_event_stays_inline_on_the_record_and_writes_no_blob()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var body = Bytes(BodyStore.InlineMaxBytes, 3);

        var raised = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "r-3", "small") { RawEvent = body }, Ct);

        Assert.Equal(body, (await h.Service.GetAsync(raised.Id, Ct))!.RawEvent.ToArray());
        Assert.Empty(await BodiesAsync(h.Blobs));
    }

    [Fact]
    public async Task Snapshot_merged_from_a_blob_to_an_inline_body_reads_the_new_body_and_drops_the_old_blob()
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var ledger = new ReturnLedger(store, blobs, TimeProvider.System);
        var at = new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
        var large = Bytes(2 * OneMebibyte, 4);
        var small = Bytes(2_000, 5);

        Assert.Equal(SnapshotDecision.Applied, await ledger.AdvanceSnapshotAsync("r-4", at, "open", large, Ct));
        Assert.Equal(large, (await ledger.GetSnapshotAsync("r-4", Ct))!.Body);
        Assert.Single(await BodiesAsync(blobs));
        Assert.Equal(SnapshotDecision.Applied, await ledger.AdvanceSnapshotAsync("r-4", at.AddMinutes(1), "closed", small, Ct));

        var read = await ledger.GetSnapshotAsync("r-4", Ct);
        Assert.Equal("closed", read!.State);
        Assert.Equal(small, read.Body);
        Assert.Empty(await BodiesAsync(blobs));
    }

    [Fact]
    public async Task Recorded_event_larger_than_a_table_entity_reads_back_whole()
    {
        var store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var ledger = new ReturnLedger(store, await AzuriteTestServer.CreateBlobStoreAsync(), TimeProvider.System);
        var body = Bytes((3 * OneMebibyte) / 2, 6);

        Assert.True(await ledger.RecordEventAsync("r-5", "label.created", "k1", null, body, Ct));
        Assert.False(await ledger.RecordEventAsync("r-5", "label.created", "k1", null, body, Ct));

        var recorded = Assert.Single(await ledger.GetEventsAsync("r-5", "label.created", Ct));
        Assert.Equal(body, recorded.Body);
    }

    [Fact]
    public async Task Body_whose_blob_is_gone_reads_as_null_not_as_a_wrong_body()
    {
        var blobs = await AzuriteTestServer.CreateBlobStoreAsync();
        var bodies = new BodyStore(blobs);
        var head = new TableEntity("p", "r");
        await bodies.WriteAsync("things", head, "Body", Bytes(100_000, 7), Ct);

        Assert.True(await blobs.DeleteAsync(BodyStore.Container, BodyStore.BlobOf(head, "Body")!, Ct));

        Assert.Null(await bodies.ReadAsync(head, "Body", Ct));
    }
}
