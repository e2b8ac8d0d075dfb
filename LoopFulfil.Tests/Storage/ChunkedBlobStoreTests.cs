using System.Security.Cryptography;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Exceptions;

namespace LoopFulfil.Tests.Storage;

/// <summary>
/// The one chunked-body helper over Azurite: round trips, chunk sizes, surplus rows, torn reads, and the layouts the
/// tables held before it (written here exactly as the earlier code wrote them) still read back.
/// </summary>
public sealed class ChunkedBlobStoreTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static byte[] Bytes(int length, int seed)
    {
        var body = new byte[length];
        new Random(seed).NextBytes(body);
        return body;
    }

    [Fact]
    public async Task Body_spilling_into_overflow_rows_reads_back_exactly_in_chunks_of_at_most_60000_bytes_and_a_shorter_rewrite_drops_surplus_rows()
    {
        AzureTableStore store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        await store.CreateTableIfNotExistsAsync("blobs", Ct);
        var blobs = new ChunkedBlobStore(store);
        var layout = new ChunkLayout("Body", 2, ChunksPerEntity: 3, MaxOverflowRows: 5, new Dictionary<string, object?> { ["Kind"] = "body" });
        byte[] large = Bytes(400_000, 1); // 7 chunks: 3 on the head, 3 + 1 on two overflow rows

        var head = new TableEntity("p", "r") { ["Kind"] = "record" };
        await blobs.WriteAsync("blobs", head, large, layout, Ct);
        await store.UpsertAsync("blobs", head, UpsertMode.Replace, Ct);

        TableEntity stored = (await store.GetAsync("blobs", "p", "r", Ct))!;
        Assert.Equal(2, ChunkedBlobStore.OverflowRowsOf(stored, layout));
        Assert.Equal(large, await blobs.ReadAsync("blobs", stored, layout, Ct));
        TableEntity overflow = (await store.GetAsync("blobs", "p", "r~body02", Ct))!;
        Assert.Equal("body", overflow.GetString("Kind"));
        var chunks = new[] { stored, (await store.GetAsync("blobs", "p", "r~body01", Ct))!, overflow }
            .SelectMany(e => e.Properties.Values.OfType<byte[]>()).ToList();
        Assert.Equal(7, chunks.Count);
        Assert.All(chunks, c => Assert.InRange(c.Length, 1, ChunkedBlobStore.MaxChunkBytes));

        byte[] small = Bytes(70_000, 2);
        int before = ChunkedBlobStore.OverflowRowsOf(stored, layout);
        await blobs.WriteAsync("blobs", stored, small, layout, Ct);
        await store.UpdateAsync("blobs", stored, UpsertMode.Replace, Ct);
        await blobs.DeleteSurplusOverflowAsync("blobs", stored, layout, before, Ct);

        TableEntity rewritten = (await store.GetAsync("blobs", "p", "r", Ct))!;
        Assert.Equal(small, await blobs.ReadAsync("blobs", rewritten, layout, Ct));
        Assert.Null(await store.GetAsync("blobs", "p", "r~body01", Ct));
        Assert.Null(await store.GetAsync("blobs", "p", "r~body02", Ct));
        Assert.Equal(2, rewritten.Properties.Values.OfType<byte[]>().Count());
    }

    [Fact]
    public async Task Overflow_row_that_does_not_match_the_head_reads_as_torn_not_as_a_wrong_body()
    {
        AzureTableStore store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        await store.CreateTableIfNotExistsAsync("blobs", Ct);
        var blobs = new ChunkedBlobStore(store);
        var layout = new ChunkLayout("Body", 2, ChunksPerEntity: 1, MaxOverflowRows: 5);
        var head = new TableEntity("p", "r");
        await blobs.WriteAsync("blobs", head, Bytes(150_000, 3), layout, Ct);
        await store.UpsertAsync("blobs", head, UpsertMode.Replace, Ct);

        // A concurrent writer replaced an overflow row with another body's chunk.
        await store.UpsertAsync("blobs", new TableEntity("p", "r~body01") { ["Body00"] = Bytes(60_000, 4) }, UpsertMode.Replace, Ct);

        Assert.Null(await blobs.ReadAsync("blobs", (await store.GetAsync("blobs", "p", "r", Ct))!, layout, Ct));
    }

    [Fact]
    public async Task Body_larger_than_the_layout_allows_is_refused_before_anything_is_written()
    {
        AzureTableStore store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        await store.CreateTableIfNotExistsAsync("blobs", Ct);
        var head = new TableEntity("p", "r");

        await Assert.ThrowsAsync<LoopFulfil.Core.Errors.PermanentIntegrationException>(() =>
            new ChunkedBlobStore(store).WriteAsync("blobs", head, Bytes(ReturnLedger.SnapshotLayout.ChunksPerEntity * ChunkedBlobStore.MaxChunkBytes + 1, 5), ReturnLedger.SnapshotLayout, Ct));
        Assert.Empty(head.Properties);
    }

    [Fact]
    public async Task Return_snapshot_stored_by_the_earlier_ledger_in_61440_byte_chunks_with_leftover_chunks_still_reads_back()
    {
        AzureTableStore store = await ExceptionsHarness.CreateIsolatedStoreAsync();
        var ledger = new ReturnLedger(store, TimeProvider.System);
        await ledger.GetStepsAsync("warm-up", Ct); // creates the table
        byte[] snapshot = Bytes(100_000, 6);
        // The earlier layout: SnapshotChunks + Snapshot{i} of 61,440 bytes, merged over a longer snapshot's Snapshot2.
        await store.UpsertAsync(ReturnLedger.Table, new TableEntity("r-legacy", "record")
        {
            ["EventTime"] = DateTimeOffset.UnixEpoch,
            ["State"] = "open",
            ["SnapshotChunks"] = 2,
            ["Snapshot0"] = snapshot[..61_440],
            ["Snapshot1"] = snapshot[61_440..],
            ["Snapshot2"] = Bytes(500, 7),
        }, UpsertMode.Replace, Ct);

        ReturnSnapshotRecord? read = await ledger.GetSnapshotAsync("r-legacy", Ct);

        Assert.Equal(snapshot, read!.Body);
    }

    [Fact]
    public async Task Exception_raw_event_stored_by_the_earlier_service_in_64000_byte_chunks_with_an_overflow_row_still_reads_back()
    {
        ExceptionsHarness h = await ExceptionsHarness.CreateAsync();
        ExceptionRecord raised = await h.Service.RaiseAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, "r-1", "legacy record"), Ct);
        byte[] body = Bytes(14 * 64_000 + 10_000, 8);
        Assert.True(ExceptionService.TryParseId(raised.Id, out string partition, out string row));
        TableEntity record = (await h.Store.GetAsync(ExceptionService.TableName, partition, row, Ct))!;
        // The earlier layout: Body00…Body13 of 64,000 bytes on the record, the rest on {row}~body01, no BodyChunks.
        for (int i = 0; i < 14; i++)
        {
            record[$"Body{i:00}"] = body[(i * 64_000)..((i + 1) * 64_000)];
        }

        string sha = Convert.ToHexStringLower(SHA256.HashData(body));
        record["BodyLength"] = body.Length;
        record["BodySha256"] = sha;
        record["BodyOverflowRows"] = 1;
        await h.Store.UpsertAsync(ExceptionService.TableName, new TableEntity(partition, row + "~body01") { ["Kind"] = "body", ["BodySha256"] = sha, ["Body00"] = body[(14 * 64_000)..] }, UpsertMode.Replace, Ct);
        // Written as the earlier service wrote a new record: one insert.
        Assert.True(await h.Store.DeleteAsync(ExceptionService.TableName, partition, row, Ct));
        Assert.Equal(InsertOutcome.Inserted, await h.Store.InsertAsync(ExceptionService.TableName, record, Ct));

        ExceptionRecord? read = await h.Service.GetAsync(raised.Id, Ct);

        Assert.Equal(body, read!.RawEvent.ToArray());
    }
}
